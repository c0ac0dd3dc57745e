using System;

namespace AotInfer.Kernels.Recurrent;

/// <summary>The activation functions ONNX RNN, GRU and LSTM accept by name in their <c>activations</c> attribute.</summary>
public enum RecurrentActivationKind
{
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>x for x ≥ 0, alpha·x otherwise.</summary>
    LeakyRelu,
    /// <summary>x for x &gt; alpha, 0 otherwise.</summary>
    ThresholdedRelu,
    /// <summary>alpha·tanh(beta·x).</summary>
    ScaledTanh,
    /// <summary>clamp(alpha·x + beta, 0, 1).</summary>
    HardSigmoid,
    /// <summary>x for x ≥ 0, alpha·(e^x − 1) otherwise.</summary>
    Elu,
    /// <summary>x / (1 + |x|).</summary>
    Softsign,
    /// <summary>log(1 + e^x).</summary>
    Softplus,
    /// <summary>alpha·x + beta.</summary>
    Affine,
}

/// <summary>One activation function of a recurrent cell with its alpha and beta (unused ones are ignored).</summary>
public readonly struct RecurrentActivation
{
    readonly RecurrentActivationKind _kind;
    readonly float _alpha;
    readonly float _beta;

    /// <summary>Creates the activation.</summary>
    public RecurrentActivation(RecurrentActivationKind kind, float alpha = 0f, float beta = 0f)
    {
        _kind = kind;
        _alpha = alpha;
        _beta = beta;
    }

    /// <summary>Applies the function to one value.</summary>
    public float Apply(float x) => _kind switch
    {
        RecurrentActivationKind.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        RecurrentActivationKind.Tanh => MathF.Tanh(x),
        RecurrentActivationKind.Relu => MathF.Max(x, 0f),
        RecurrentActivationKind.LeakyRelu => x >= 0f ? x : _alpha * x,
        RecurrentActivationKind.ThresholdedRelu => x > _alpha ? x : 0f,
        RecurrentActivationKind.ScaledTanh => _alpha * MathF.Tanh(_beta * x),
        RecurrentActivationKind.HardSigmoid => MathF.Min(1f, MathF.Max(0f, _alpha * x + _beta)),
        RecurrentActivationKind.Elu => x >= 0f ? x : _alpha * (MathF.Exp(x) - 1f),
        RecurrentActivationKind.Softsign => x / (1f + MathF.Abs(x)),
        RecurrentActivationKind.Softplus => x > 20f ? x : MathF.Log(1f + MathF.Exp(x)),
        _ => _alpha * x + _beta,
    };
}
