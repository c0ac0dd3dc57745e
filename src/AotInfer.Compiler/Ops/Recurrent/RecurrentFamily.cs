using System.Collections.Generic;

namespace AotInfer.Compiler.Ops.Recurrent;

/// <summary>Registers the recurrent layers RNN, GRU and LSTM.</summary>
public static class RecurrentFamily
{
    /// <summary>All lowerings of the family.</summary>
    public static IEnumerable<OpLowering> All()
    {
        yield return new RecurrentLowering("RNN", "Rnn", gates: 1, new[] { "Tanh" });
        yield return new RecurrentLowering("GRU", "Gru", gates: 3, new[] { "Sigmoid", "Tanh" });
        yield return new RecurrentLowering("LSTM", "Lstm", gates: 4, new[] { "Sigmoid", "Tanh", "Tanh" });
    }
}
