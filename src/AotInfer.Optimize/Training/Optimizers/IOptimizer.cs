using System.Collections.Generic;

namespace AotInfer.Optimize.Training.Optimizers;

/// <summary>
/// Updates parameters from their gradients. Implementations keep per-parameter state (momentum, squared-gradient
/// sums) keyed by the parameter, created on first use. Frozen parameters are skipped; masked (pruned) weights get
/// their mask re-applied after the step so they stay exactly zero.
/// </summary>
public interface IOptimizer
{
    /// <summary>One update of every parameter at <paramref name="learningRate"/>.</summary>
    void Step(IReadOnlyList<Parameter> parameters, float learningRate);
}

/// <summary>Creates optimisers by name.</summary>
public static class Optimizer
{
    /// <summary>
    /// "sgd" (plain, or with momentum when <paramref name="momentum"/> &gt; 0), "momentum" (SGD with 0.9 unless
    /// given), "nesterov", "adagrad" or "adam".
    /// </summary>
    public static IOptimizer Create(string name, double momentum = 0) => name switch
    {
        "sgd" => new SgdOptimizer((float)momentum, nesterov: false),
        "momentum" => new SgdOptimizer(momentum > 0 ? (float)momentum : 0.9f, nesterov: false),
        "nesterov" => new SgdOptimizer(momentum > 0 ? (float)momentum : 0.9f, nesterov: true),
        "adagrad" => new AdaGradOptimizer(),
        "adam" => new AdamOptimizer(),
        _ => throw new System.ArgumentException($"optimizer '{name}' is unknown (sgd, momentum, nesterov, adagrad, adam)"),
    };
}
