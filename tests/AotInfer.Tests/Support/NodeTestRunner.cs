using System;
using System.IO;
using System.Linq;
using AotInfer.Cli.Check;
using AotInfer.Onnx;
using Google.Protobuf;
using Xunit;

namespace AotInfer.Tests.Support;

/// <summary>
/// Runs an official ONNX node test whose shape-like inputs (shape, axes, starts, repeats...) are graph inputs: AotInfer
/// needs them at compile time, so this bakes the test set's values for those inputs into the model as
/// initializers, compiles it, runs the remaining inputs and compares with the reference outputs.
/// </summary>
public static class NodeTestRunner
{
    /// <summary>The node test folder (<c>onnx-node-tests/node</c> of the shared test material); throws naming it when absent.</summary>
    public static string NodeTestsRoot => SharedMaterial.Require(Path.Combine("onnx-node-tests", "node"));

    /// <summary>Runs test <paramref name="name"/> with the inputs at <paramref name="constantInputs"/> made constant.</summary>
    public static void AssertPasses(string name, params int[] constantInputs)
    {
        string folder = Path.Combine(NodeTestsRoot, name);
        var model = OnnxModelLoader.LoadFile(Path.Combine(folder, "model.onnx"));
        string set = Path.Combine(folder, "test_data_set_0");
        var inputs = model.Graph.Input.ToList();
        var runtimeInputs = new System.Collections.Generic.List<Array>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var proto = OnnxModelLoader.LoadTensorFile(Path.Combine(set, $"input_{i}.pb"));
            if (constantInputs.Contains(i))
            {
                proto.Name = inputs[i].Name;
                model.Graph.Initializer.Add(proto);
                model.Graph.Input.Remove(inputs[i]);
            }
            else runtimeInputs.Add(RuntimeArrays.FromTensor(TensorProtoReader.Read(proto, null)));
        }
        var compiled = Differential.CompileModel(model.ToByteArray());
        var outputs = compiled.Info.Outputs.Select(o => RuntimeArrays.Allocate(o.ElementType, o.Length)).ToArray();
        compiled.Run(runtimeInputs.ToArray(), outputs);
        var comparer = new OutputComparer(1e-3, 1e-5, 0);
        for (int i = 0; i < outputs.Length; i++)
        {
            var expected = TensorProtoReader.Read(OnnxModelLoader.LoadTensorFile(Path.Combine(set, $"output_{i}.pb")), null);
            Assert.Equal(expected.Shape, compiled.Info.Outputs[i].Shape);
            string? problem = comparer.Compare(outputs[i], RuntimeArrays.FromTensor(expected), compiled.Info.Outputs[i].Name);
            Assert.True(problem is null, problem);
        }
    }
}
