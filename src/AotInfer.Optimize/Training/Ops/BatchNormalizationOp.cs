using System;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;

namespace AotInfer.Optimize.Training.Ops;

/// <summary>
/// BatchNormalization over [N, C, ...]. In training mode each channel is normalised with the batch mean and (biased)
/// variance, and the running statistics (inputs 3 and 4, written back at export) move towards the batch's:
/// running = momentum·running + (1 − momentum)·batch, with the unbiased variance as PyTorch does. Backward:
/// dγ = Σ dy·x̂, dβ = Σ dy, dx = γ/(Mσ)·(M·dy − dβ − x̂·dγ) with M = N·spatial. In evaluation mode the running
/// statistics are constants and dx = γ/σ·dy.
/// </summary>
public sealed class BatchNormalizationOp : TrainingOp
{
    readonly float _epsilon, _momentum;
    readonly TrainingTensor _normalized = new();
    float[] _inverseStd = Array.Empty<float>();
    bool _trainedWithBatchStatistics;

    /// <summary>Wraps <paramref name="node"/>.</summary>
    public BatchNormalizationOp(NodeProto node) : base(node)
    {
        _epsilon = GraphEditor.GetFloat(node, "epsilon", 1e-5f);
        _momentum = GraphEditor.GetFloat(node, "momentum", 0.9f);
        if (node.Input.Count < 5) throw new InvalidOperationException($"{Description}: needs scale, B, mean and var inputs");
        if (GraphEditor.GetInt(node, "training_mode", 0) != 0 || node.Output.Count > 1)
            throw new InvalidOperationException($"{Description}: an exported training-mode BatchNormalization (extra outputs) is not supported; export the model in eval mode");
    }

    /// <summary>Running mean initializer (updated in training mode).</summary>
    public string RunningMean => Inputs[3];

    /// <summary>Running variance initializer (updated in training mode).</summary>
    public string RunningVariance => Inputs[4];

    /// <inheritdoc />
    public override void Forward(TrainingContext context)
    {
        var x = context.Value(Inputs[0]);
        if (x.Shape.Length < 2) throw Error($"input {x.ShapeText} needs a channel dimension");
        int batch = x.Shape[0], channels = x.Shape[1], size = x.Length / Math.Max(batch * channels, 1);
        Span<float> scale = context.Value(Inputs[1]).Span, shift = context.Value(Inputs[2]).Span;
        Span<float> runningMean = context.Value(RunningMean).Span, runningVariance = context.Value(RunningVariance).Span;
        if (scale.Length != channels || shift.Length != channels || runningMean.Length != channels || runningVariance.Length != channels)
            throw Error($"input {x.ShapeText} has {channels} channels, the parameters do not");
        if (_inverseStd.Length != channels) _inverseStd = new float[channels];
        Span<float> input = x.Span, output = context.Output(Outputs[0], x.Shape).Span, normalized = _normalized.Resize(x.Shape).Span;
        _trainedWithBatchStatistics = context.Training;
        int count = batch * size;
        for (int c = 0; c < channels; c++)
        {
            float mean, variance;
            if (context.Training)
            {
                double sum = 0, squares = 0;
                for (int n = 0; n < batch; n++)
                    foreach (float v in input.Slice((n * channels + c) * size, size)) { sum += v; squares += (double)v * v; }
                mean = (float)(sum / count);
                variance = (float)Math.Max(0, squares / count - (sum / count) * (sum / count));
                float unbiased = count > 1 ? variance * count / (count - 1) : variance;
                runningMean[c] = _momentum * runningMean[c] + (1 - _momentum) * mean;
                runningVariance[c] = _momentum * runningVariance[c] + (1 - _momentum) * unbiased;
            }
            else
            {
                mean = runningMean[c];
                variance = runningVariance[c];
            }
            float inverse = 1f / MathF.Sqrt(variance + _epsilon);
            _inverseStd[c] = inverse;
            for (int n = 0; n < batch; n++)
            {
                int offset = (n * channels + c) * size;
                for (int i = offset; i < offset + size; i++)
                {
                    float xh = (input[i] - mean) * inverse;
                    normalized[i] = xh;
                    output[i] = scale[c] * xh + shift[c];
                }
            }
        }
    }

    /// <inheritdoc />
    public override void Backward(TrainingContext context)
    {
        if (context.Gradient(Outputs[0]) is not { } dyTensor) return;
        var x = context.Value(Inputs[0]);
        int batch = x.Shape[0], channels = x.Shape[1], size = x.Length / Math.Max(batch * channels, 1), count = batch * size;
        Span<float> dy = dyTensor.Span, normalized = _normalized.Span, scale = context.Value(Inputs[1]).Span;
        var sumDy = new double[channels];
        var sumDyXh = new double[channels];
        for (int c = 0; c < channels; c++)
            for (int n = 0; n < batch; n++)
            {
                int offset = (n * channels + c) * size;
                for (int i = offset; i < offset + size; i++) { sumDy[c] += dy[i]; sumDyXh[c] += dy[i] * normalized[i]; }
            }
        if (context.RequiresGradient(Inputs[1]))
        {
            Span<float> dScale = context.AccumulatingGradient(Inputs[1]);
            for (int c = 0; c < channels; c++) dScale[c] += (float)sumDyXh[c];
        }
        if (context.RequiresGradient(Inputs[2]))
        {
            Span<float> dShift = context.AccumulatingGradient(Inputs[2]);
            for (int c = 0; c < channels; c++) dShift[c] += (float)sumDy[c];
        }
        if (!context.RequiresGradient(Inputs[0])) return;
        Span<float> dx = context.GradientTarget(Inputs[0], out bool accumulate);
        for (int c = 0; c < channels; c++)
        {
            float factor = scale[c] * _inverseStd[c];
            float meanDy = (float)(sumDy[c] / count), meanDyXh = (float)(sumDyXh[c] / count);
            for (int n = 0; n < batch; n++)
            {
                int offset = (n * channels + c) * size;
                for (int i = offset; i < offset + size; i++)
                {
                    float g = _trainedWithBatchStatistics ? factor * (dy[i] - meanDy - normalized[i] * meanDyXh) : factor * dy[i];
                    dx[i] = accumulate ? dx[i] + g : g;
                }
            }
        }
    }
}
