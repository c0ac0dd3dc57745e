using System.Collections.Generic;

namespace AotInfer.Compiler;

/// <summary>What the caller decides about one compilation.</summary>
public sealed class CompileOptions
{
    /// <summary>Name of the generated class.</summary>
    public string ClassName { get; set; } = "Model";

    /// <summary>Namespace of the generated class; empty for the global namespace.</summary>
    public string Namespace { get; set; } = "";

    /// <summary>Accessibility and modifiers written before <c>partial class</c> (e.g. <c>public sealed</c>); empty to leave them to another part.</summary>
    public string Modifiers { get; set; } = "public sealed";

    /// <summary>Values for symbolic dimensions by their <c>dim_param</c> name (e.g. <c>batch=1</c>).</summary>
    public Dictionary<string, int> DimensionValues { get; set; } = new();

    /// <summary>Exact shapes for graph inputs by name; overrides what the model declares (used to run test data).</summary>
    public Dictionary<string, int[]> InputShapes { get; set; } = new();

    /// <summary>
    /// Graph inputs whose values are fixed at compile time, by name (specialisation, e.g. a shape or scales fed as an
    /// input). They stay parameters of <c>Run</c>, but the generated code uses these values and ignores what is passed.
    /// </summary>
    public Dictionary<string, AotInfer.Onnx.Tensor> ConstantInputs { get; set; } = new();

    /// <summary>Folder that external data must stay inside; null forbids external data.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>Name of the model file, for the provenance header and messages.</summary>
    public string ModelFileName { get; set; } = "model.onnx";
}
