using AotInfer.Cli;
using Xunit;

namespace AotInfer.Tests.Cli;

/// <summary>Command-line parsing.</summary>
public class ArgumentsTests
{
    [Fact]
    public void ShortAndLongOptionsTakeValuesAndFlagsDoNot()
    {
        var args = Arguments.Parse(new[] { "model.onnx", "-o", "out.cs", "--class", "Net", "--quiet", "-3" }, "--quiet");
        Assert.Equal(new[] { "model.onnx", "-3" }, args.Positional);
        Assert.Equal("out.cs", args.Get("-o"));
        Assert.Equal("Net", args.Get("--class"));
        Assert.True(args.Has("--quiet"));
    }

    [Fact]
    public void OptionWithoutValueIsAUsageError()
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(new[] { "--json" }));
        Assert.Contains("--json", error.Message);
    }
}
