using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Passes;

/// <summary>
/// Records on every node whether it runs in int8 or float, and why, as the "precision" annotation that
/// <c>inspect</c> prints. Lowerings that run integer kernels set it themselves (com.microsoft QLinear* ops); this
/// pass fills in the rest from the graph's shape: QuantizeLinear/DequantizeLinear are conversions, and a float op
/// fed by DequantizeLinear or feeding QuantizeLinear is a QDQ pattern that runs in float (simulated quantisation)
/// because no QDQ fusion rewrote it. Works on graphs whose inference failed too (types may then be unknown).
/// </summary>
public static class PrecisionAnnotation
{
    /// <summary>The annotation key.</summary>
    public const string Key = "precision";

    /// <summary>Annotates every node of <paramref name="graph"/> that has no precision yet.</summary>
    public static void Run(Graph graph)
    {
        foreach (var node in graph.Nodes)
        {
            if (node.Annotations.ContainsKey(Key)) continue;
            node.Annotations[Key] = Describe(node);
        }
    }

    static string Describe(Node node)
    {
        switch (node.OpType)
        {
            case "QuantizeLinear": return "conversion float→int (quantize)";
            case "DequantizeLinear": return "conversion int→float (dequantize)";
            case "DynamicQuantizeLinear": return "conversion float→uint8 (dynamic quantize)";
        }
        bool fedByDequantize = node.Inputs.Any(i => i?.Producer?.OpType == "DequantizeLinear");
        bool feedsQuantize = node.Outputs.Any(o => o is not null && o.Consumers.Any(c => c.OpType == "QuantizeLinear"));
        if (fedByDequantize || feedsQuantize)
            return "float (QDQ simulated: DequantizeLinear/QuantizeLinear around a float op, no QDQ fusion applied)";
        var type = node.Outputs.FirstOrDefault()?.Type;
        if (type is DataType.Int8 or DataType.UInt8)
            return node.OpType.StartsWith("QLinear") || node.Domain == "com.microsoft" ? "int8" : "int8 (data movement or integer op)";
        return type is DataType.Float ? "float" : type is null || type == DataType.Undefined ? "unknown (not inferred)" : type.Value.ToString();
    }
}
