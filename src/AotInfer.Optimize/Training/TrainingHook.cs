using System.Collections.Generic;

namespace AotInfer.Optimize.Training;

/// <summary>
/// Lets a training technique change what the optimiser sees without its own training loop: quantisation-aware
/// training swaps fake-quantised weights in for the forward pass, weight sharing ties the gradients of a cluster's
/// members. <see cref="Trainer"/> calls the methods in this order for every batch.
/// </summary>
public interface ITrainingHook
{
    /// <summary>Before the batch's forward pass (the parameters hold the values the optimiser updates).</summary>
    void BeforeForward(IReadOnlyList<Parameter> parameters);

    /// <summary>After backward and the regularisation gradients, right before the optimiser step.</summary>
    void BeforeStep(IReadOnlyList<Parameter> parameters);

    /// <summary>After each epoch's last step, before that epoch's evaluation.</summary>
    void AfterSteps(IReadOnlyList<Parameter> parameters);
}
