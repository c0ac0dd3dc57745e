namespace AotInfer.Cli.Check;

/// <summary>Outcome of checking one model.</summary>
public enum CheckStatus
{
    /// <summary>Every output of every test set matches.</summary>
    Pass,
    /// <summary>An output differs beyond tolerance.</summary>
    Fail,
    /// <summary>The compiler reported the model unsupported (with diagnostics).</summary>
    Unsupported,
    /// <summary>A crash or invalid generated code: always a bug.</summary>
    Error,
}

/// <summary>Result of one model.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Status">The status.</param>
/// <param name="Detail">Why (diagnostics, worst error, exception).</param>
public sealed record CheckResult(string Name, CheckStatus Status, string Detail);
