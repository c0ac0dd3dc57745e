namespace AotInfer.Optimize.Training;

/// <summary>How <see cref="Trainer"/> trains.</summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Samples per optimiser step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Initial learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>sgd, momentum, nesterov, adagrad or adam.</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>SGD momentum (0: the optimiser's default).</summary>
    public double Momentum { get; init; }

    /// <summary>fixed, exponential or cosine.</summary>
    public string Schedule { get; init; } = "fixed";

    /// <summary>Per-epoch factor of the exponential schedule.</summary>
    public float Decay { get; init; } = 0.9f;

    /// <summary>Weight penalties.</summary>
    public Regularization Regularization { get; init; } = Regularization.None;

    /// <summary>Seed of the shuffling (and of Dropout through the graph).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A technique that adjusts parameters or gradients around each step (QAT, weight sharing), or null.</summary>
    public ITrainingHook? Hook { get; init; }

    /// <summary>Label for progress lines.</summary>
    public string Label { get; init; } = "train";
}
