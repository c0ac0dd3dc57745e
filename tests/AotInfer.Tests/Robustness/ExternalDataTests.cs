using System;
using System.IO;
using System.Linq;
using AotInfer.Compiler;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Tests.Support;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Robustness;

/// <summary>
/// External data must stay inside the model's folder: <c>..</c>, absolute paths and symbolic links that leave it
/// are rejected with AOTI0001 naming the initializer; offsets and lengths are checked against the file.
/// </summary>
public sealed class ExternalDataTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "aotinfer-extdata-" + Guid.NewGuid().ToString("N"));
    readonly string _modelFolder;
    readonly string _secret;

    public ExternalDataTests()
    {
        _modelFolder = Path.Combine(_root, "model");
        Directory.CreateDirectory(_modelFolder);
        _secret = Path.Combine(_root, "secret.bin");
        File.WriteAllBytes(_secret, FloatBytes(42f, 43f));
        File.WriteAllBytes(Path.Combine(_modelFolder, "weights.bin"), FloatBytes(0f, 1f, 2f, 3f));
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    static byte[] FloatBytes(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    static byte[] ModelWithExternalWeight(string location, long? offset = null, long? length = null)
    {
        var model = new OnnxModelBuilder()
            .Input("x", DataType.Float, 2).Initializer("w", new float[] { 0, 0 }, 2)
            .Node("Add", new[] { "x", "w" }, new[] { "y" }).Output("y", DataType.Float).Build();
        var w = model.Graph.Initializer[0];
        w.RawData = ByteString.Empty;
        w.FloatData.Clear();
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is { } o) w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = o.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        if (length is { } l) w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return model.ToByteArray();
    }

    CompileResult Compile(byte[] model) => ModelCompiler.Compile(model, new CompileOptions { ModelDirectory = _modelFolder });

    static void AssertRejected(CompileResult result, string expected)
    {
        Assert.False(result.Success);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticIds.InvalidModel, d.Id);
        Assert.Contains("initializer 'w'", d.Message);
        Assert.Contains(expected, d.Message);
    }

    [Fact]
    public void InsideTheFolderIsRead()
    {
        var result = Compile(ModelWithExternalWeight("weights.bin", offset: 8, length: 8));
        Assert.True(result.Success, string.Join(" | ", result.Diagnostics));
        var w = result.Graph!.Values["w"].Constant;
        Assert.Equal(new[] { 2f, 3f }, w?.As<float>() ?? Array.Empty<float>());
    }

    [Fact]
    public void DotDotIsRejected() => AssertRejected(Compile(ModelWithExternalWeight("../secret.bin")), "leaves the model's folder");

    [Fact]
    public void DotDotInTheMiddleIsRejected() => AssertRejected(Compile(ModelWithExternalWeight("sub/../../secret.bin")), "leaves the model's folder");

    [Fact]
    public void AbsolutePathIsRejected() => AssertRejected(Compile(ModelWithExternalWeight(_secret)), "absolute path");

    [Fact]
    public void SymbolicLinkToAFileOutsideIsRejected()
    {
        File.CreateSymbolicLink(Path.Combine(_modelFolder, "link.bin"), _secret);
        AssertRejected(Compile(ModelWithExternalWeight("link.bin")), "is a link that leaves the model's folder");
    }

    [Fact]
    public void SymbolicLinkToAFolderOutsideIsRejected()
    {
        Directory.CreateSymbolicLink(Path.Combine(_modelFolder, "linked"), _root);
        AssertRejected(Compile(ModelWithExternalWeight("linked/secret.bin")), "is a link that leaves the model's folder");
    }

    [Fact]
    public void NoModelFolderForbidsExternalData() =>
        AssertRejected(ModelCompiler.Compile(ModelWithExternalWeight("weights.bin"), new CompileOptions()), "not allowed");

    [Fact]
    public void OffsetPastTheEndIsRejected() => AssertRejected(Compile(ModelWithExternalWeight("weights.bin", offset: 100)), "outside");

    [Fact]
    public void LengthPastTheEndIsRejected() => AssertRejected(Compile(ModelWithExternalWeight("weights.bin", offset: 8, length: 16)), "runs past the end");

    [Fact]
    public void NegativeOffsetIsRejected() => AssertRejected(Compile(ModelWithExternalWeight("weights.bin", offset: -1)), "not a non-negative integer");

    [Fact]
    public void LengthThatDoesNotMatchTheShapeIsRejected() => AssertRejected(Compile(ModelWithExternalWeight("weights.bin")), "needs 8");
}
