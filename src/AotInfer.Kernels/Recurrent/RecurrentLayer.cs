using System;
using AotInfer.Kernels.Linear;

namespace AotInfer.Kernels.Recurrent;

/// <summary>Which recurrent cell a layer runs; also its number of gates (rows of W per hidden unit).</summary>
public enum RecurrentCell
{
    /// <summary>Elman RNN: one gate.</summary>
    Rnn = 1,
    /// <summary>GRU: update z, reset r, hidden h.</summary>
    Gru = 3,
    /// <summary>LSTM: input i, output o, forget f, cell c.</summary>
    Lstm = 4,
}

/// <summary>The static sizes and options of one ONNX RNN/GRU/LSTM node.</summary>
/// <param name="Cell">The cell type.</param>
/// <param name="SequenceLength">Time steps.</param>
/// <param name="Batch">Batch size.</param>
/// <param name="InputSize">Features of X.</param>
/// <param name="Hidden">Hidden size.</param>
/// <param name="Directions">1, or 2 when bidirectional.</param>
/// <param name="BatchMajor">ONNX layout = 1: X is [batch, seq, input], Y [batch, seq, dir, hidden], Y_h/Y_c [batch, dir, hidden].</param>
/// <param name="Clip">Clips gate pre-activations to [-clip, clip]; 0 or less means no clipping.</param>
/// <param name="LinearBeforeReset">GRU: apply the reset gate after multiplying by R (and adding its bias).</param>
public sealed record RecurrentGeometry(RecurrentCell Cell, int SequenceLength, int Batch, int InputSize, int Hidden, int Directions,
    bool BatchMajor, float Clip, bool LinearBeforeReset)
{
    /// <summary>Gate rows per hidden unit.</summary>
    public int Gates => (int)Cell;

    /// <summary>Floats of scratch <see cref="RecurrentLayer.RunDirection"/> needs.</summary>
    public int ScratchLength => SequenceLength * Batch * Gates * Hidden + Batch * Gates * Hidden + 3 * Batch * Hidden;
}

/// <summary>
/// ONNX RNN, GRU and LSTM (float). The input projection X·Wᵀ of all time steps is one GEMM; each step then does one
/// GEMM of the previous hidden state with Rᵀ and the element-wise gate arithmetic. Sequences shorter than
/// the full length (sequence_lens) stop early: their Y rows are zero and Y_h/Y_c keep the last valid state.
/// </summary>
public static class RecurrentLayer
{
    /// <summary>
    /// Runs direction <paramref name="direction"/> (reversed in time when <paramref name="reverse"/>): reads the
    /// direction's slices of W [dir, gates·hidden, input], R [dir, gates·hidden, hidden], B [dir, 2·gates·hidden],
    /// P [dir, 3·hidden] and the initial states, and writes its slices of Y, Y_h and Y_c. Absent inputs and outputs
    /// are empty spans; absent sequence lengths mean full length.
    /// </summary>
    public static void RunDirection(RecurrentGeometry geometry, int direction, bool reverse,
        ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> r, ReadOnlySpan<float> bias, ReadOnlySpan<int> sequenceLengths,
        ReadOnlySpan<float> initialH, ReadOnlySpan<float> initialC, ReadOnlySpan<float> peepholes,
        Span<float> y, Span<float> yH, Span<float> yC, RecurrentActivation f, RecurrentActivation g, RecurrentActivation h, Span<float> scratch)
    {
        int seq = geometry.SequenceLength, batch = geometry.Batch, input = geometry.InputSize, hidden = geometry.Hidden;
        int gates = geometry.Gates, width = gates * hidden;
        var wd = w.Slice(direction * width * input, width * input);
        var rd = r.Slice(direction * width * hidden, width * hidden);
        ReadOnlySpan<float> wb = bias.IsEmpty ? default : bias.Slice(direction * 2 * width, width);
        ReadOnlySpan<float> rb = bias.IsEmpty ? default : bias.Slice(direction * 2 * width + width, width);
        ReadOnlySpan<float> pd = peepholes.IsEmpty ? default : peepholes.Slice(direction * 3 * hidden, 3 * hidden);

        var projected = scratch.Slice(0, seq * batch * width);
        var recurrent = scratch.Slice(projected.Length, batch * width);
        var state = scratch.Slice(projected.Length + recurrent.Length, batch * hidden);
        var cell = scratch.Slice(projected.Length + recurrent.Length + state.Length, batch * hidden);
        var gated = scratch.Slice(projected.Length + recurrent.Length + 2 * state.Length, batch * hidden);

        // X rows are (t, b) in sequence-major layout and (b, t) in batch-major; projected rows follow X's order.
        MatrixMultiply.Multiply(x, input, false, wd, input, true, projected, width, seq * batch, width, input);
        for (int row = 0; row < seq * batch; row++)
        {
            var p = projected.Slice(row * width, width);
            for (int j = 0; j < width; j++)
            {
                float b = wb.IsEmpty ? 0f : wb[j];
                // GRU adds the hidden gate's recurrence bias inside its own formula.
                if (!rb.IsEmpty && !(geometry.Cell == RecurrentCell.Gru && j >= 2 * hidden)) b += rb[j];
                p[j] += b;
            }
        }

        for (int b = 0; b < batch; b++)
            for (int k = 0; k < hidden; k++)
            {
                int at = StateIndex(geometry, direction, b) + k;
                state[b * hidden + k] = initialH.IsEmpty ? 0f : initialH[at];
                cell[b * hidden + k] = initialC.IsEmpty ? 0f : initialC[at];
            }

        for (int step = 0; step < seq; step++)
        {
            // The GRU without linear_before_reset multiplies r ⊙ H by R_h, so only the z and r gates use H·Rᵀ here.
            bool resetFirst = geometry.Cell == RecurrentCell.Gru && !geometry.LinearBeforeReset;
            int recurrentWidth = resetFirst ? 2 * hidden : width;
            MatrixMultiply.Multiply(state, hidden, false, rd, hidden, true, recurrent, width, batch, recurrentWidth, hidden);
            if (resetFirst)
            {
                for (int b = 0; b < batch; b++)
                {
                    var pre = projected.Slice(Row(geometry, TimeOf(step, b, seq, sequenceLengths, reverse), b) * width, width);
                    for (int k = 0; k < hidden; k++)
                    {
                        float rGate = f.Apply(Clip(pre[hidden + k] + recurrent[b * width + hidden + k], geometry.Clip));
                        gated[b * hidden + k] = rGate * state[b * hidden + k];
                    }
                }
                MatrixMultiply.Multiply(gated, hidden, false, rd.Slice(2 * hidden * hidden), hidden, true, recurrent.Slice(2 * hidden), width, batch, hidden, hidden);
            }

            for (int b = 0; b < batch; b++)
            {
                int length = sequenceLengths.IsEmpty ? seq : sequenceLengths[b];
                if (step >= length)
                {
                    // Steps past this sequence's end: Y is zero there (for both directions, time index = step).
                    if (!y.IsEmpty) y.Slice(OutputIndex(geometry, step, direction, b), hidden).Clear();
                    continue;
                }
                int t = reverse ? length - 1 - step : step;
                var pre = projected.Slice(Row(geometry, t, b) * width, width);
                var rec = recurrent.Slice(b * width, width);
                var hState = state.Slice(b * hidden, hidden);
                var cState = cell.Slice(b * hidden, hidden);
                for (int k = 0; k < hidden; k++)
                {
                    float clip = geometry.Clip;
                    switch (geometry.Cell)
                    {
                        case RecurrentCell.Rnn:
                            hState[k] = f.Apply(Clip(pre[k] + rec[k], clip));
                            break;
                        case RecurrentCell.Gru:
                        {
                            float z = f.Apply(Clip(pre[k] + rec[k], clip));
                            float candidate;
                            if (geometry.LinearBeforeReset)
                            {
                                float reset = f.Apply(Clip(pre[hidden + k] + rec[hidden + k], clip));
                                float rbh = rb.IsEmpty ? 0f : rb[2 * hidden + k];
                                candidate = g.Apply(Clip(pre[2 * hidden + k] + reset * (rec[2 * hidden + k] + rbh), clip));
                            }
                            else
                            {
                                float rbh = rb.IsEmpty ? 0f : rb[2 * hidden + k];
                                candidate = g.Apply(Clip(pre[2 * hidden + k] + rec[2 * hidden + k] + rbh, clip));
                            }
                            hState[k] = (1f - z) * candidate + z * hState[k];
                            break;
                        }
                        default:
                        {
                            float previousCell = cState[k];
                            float i = f.Apply(Clip(pre[k] + rec[k] + (pd.IsEmpty ? 0f : pd[k] * previousCell), clip));
                            float forget = f.Apply(Clip(pre[2 * hidden + k] + rec[2 * hidden + k] + (pd.IsEmpty ? 0f : pd[2 * hidden + k] * previousCell), clip));
                            float c = g.Apply(Clip(pre[3 * hidden + k] + rec[3 * hidden + k], clip));
                            float newCell = forget * previousCell + i * c;
                            float o = f.Apply(Clip(pre[hidden + k] + rec[hidden + k] + (pd.IsEmpty ? 0f : pd[hidden + k] * newCell), clip));
                            cState[k] = newCell;
                            hState[k] = o * h.Apply(newCell);
                            break;
                        }
                    }
                }
                if (!y.IsEmpty) hState.CopyTo(y.Slice(OutputIndex(geometry, t, direction, b), hidden));
            }
        }

        for (int b = 0; b < batch; b++)
        {
            int at = StateIndex(geometry, direction, b);
            if (!yH.IsEmpty) state.Slice(b * hidden, hidden).CopyTo(yH.Slice(at, hidden));
            if (!yC.IsEmpty) cell.Slice(b * hidden, hidden).CopyTo(yC.Slice(at, hidden));
        }
    }

    static int TimeOf(int step, int b, int seq, ReadOnlySpan<int> sequenceLengths, bool reverse)
    {
        int length = sequenceLengths.IsEmpty ? seq : sequenceLengths[b];
        if (step >= length) return step;
        return reverse ? length - 1 - step : step;
    }

    static float Clip(float value, float clip) => clip > 0f ? Math.Clamp(value, -clip, clip) : value;

    static int Row(RecurrentGeometry g, int t, int b) => g.BatchMajor ? b * g.SequenceLength + t : t * g.Batch + b;

    static int StateIndex(RecurrentGeometry g, int direction, int b) =>
        (g.BatchMajor ? b * g.Directions + direction : direction * g.Batch + b) * g.Hidden;

    static int OutputIndex(RecurrentGeometry g, int t, int direction, int b) =>
        (g.BatchMajor ? (b * g.SequenceLength + t) * g.Directions + direction : (t * g.Directions + direction) * g.Batch + b) * g.Hidden;
}
