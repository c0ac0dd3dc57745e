using System.IO;
using Xunit;

namespace AotInfer.Tests.Generator;

/// <summary>
/// The models checked into tests/AotInfer.EndToEnd/models are the ones <see cref="GeneratorTestModels"/> builds.
/// This test keeps them in step: run with <c>AOTINFER_UPDATE_GOLDEN=1</c> to rewrite them after a change.
/// </summary>
public class EndToEndModelFiles
{
    [Theory]
    [InlineData("add-relu.onnx")]
    [InlineData("scaled_sigmoid.onnx")]
    [InlineData("batch-relu.onnx")]
    public void CheckedInModelMatchesItsBuilder(string fileName)
    {
        byte[] expected = fileName switch
        {
            "add-relu.onnx" => GeneratorTestModels.AddRelu(),
            "scaled_sigmoid.onnx" => GeneratorTestModels.ScaledSigmoid(),
            _ => GeneratorTestModels.SymbolicBatchRelu(),
        };
        string path = Path.Combine(GoldenFiles.Directory, "..", "..", "..", "AotInfer.EndToEnd", "models", fileName);
        if (GoldenFiles.Update)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, expected);
            return;
        }
        Assert.True(File.Exists(path), $"{path} is missing (run with AOTINFER_UPDATE_GOLDEN=1)");
        Assert.Equal(expected, File.ReadAllBytes(path));
    }
}
