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

    /// <summary>
    /// When true (the default), an unpinned symbolic first dimension shared by the inputs becomes a batch size chosen
    /// at run time: the graph is compiled for one sample and <c>Run</c> takes any number of samples, provided no node
    /// mixes samples (otherwise the dimension must be pinned).
    /// </summary>
    public bool RuntimeBatch { get; set; } = true;

    /// <summary>Values for symbolic dimensions by their <c>dim_param</c> name (e.g. <c>batch=1</c>).</summary>
    public Dictionary<string, int> DimensionValues { get; set; } = new();

    /// <summary>Exact shapes for graph inputs by name; overrides what the model declares (used to run test data).</summary>
    public Dictionary<string, int[]> InputShapes { get; set; } = new();

    /// <summary>
    /// Values fixed at compile time for graph inputs by name (for inputs that decide shapes, such as a Reshape's
    /// shape fed as an input). The generated Run still takes the input and throws when it differs.
    /// </summary>
    public Dictionary<string, Onnx.Tensor> InputValues { get; set; } = new();

    /// <summary>Folder that external data must stay inside; null forbids external data.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>Name of the model file, for the provenance header and messages.</summary>
    public string ModelFileName { get; set; } = "model.onnx";

    /// <summary>
    /// Run the fusion passes (BatchNormalization folding, bias and activation fusion); on by default. Off only to
    /// measure what they gain or to debug them.
    /// </summary>
    public bool Fuse { get; set; } = true;

    /// <summary>
    /// Threads the generated <c>Run</c> may use: 1 (the default) runs everything on the calling thread; N &gt; 1 lets
    /// GEMV, GEMM and the convolutions built on it split large layers over a shared pool of N threads
    /// (<c>AotInfer.Kernels.Threading.WorkerPool</c>); 0 means one per processor at run time. Results are the same
    /// bit for bit whatever the count.
    /// </summary>
    public int Threads { get; set; } = 1;

    /// <summary>
    /// Stamp the time of each layer: the class also implements <c>AotInfer.Kernels.IProfiledModel</c> (one clock read
    /// per layer per call). Off by default, and then no profiling code is emitted at all.
    /// </summary>
    public bool Profile { get; set; }

    /// <summary>
    /// Dense or sparse kernels for constant float weight matrices (Gemm, MatMul): <see cref="SparseMode.Auto"/> (the
    /// default) lets a cost model decide per layer from the measured sparsity and pattern.
    /// </summary>
    public SparseMode Sparse { get; set; } = SparseMode.Auto;

    /// <summary>Most bytes of constants (initializers plus values folded at compile time) before AOTI0009.</summary>
    public long MaxConstantBytes { get; set; } = 512L << 20;

    /// <summary>Most nodes (subgraphs included) before AOTI0009.</summary>
    public int MaxNodeCount { get; set; } = 100_000;

    /// <summary>Deepest nesting of subgraphs in node attributes (If/Loop/Scan bodies) before AOTI0009.</summary>
    public int MaxGraphNesting { get; set; } = 16;

    /// <summary>Longest a compilation may take before AOTI0009 (checked between nodes).</summary>
    public System.TimeSpan TimeBudget { get; set; } = System.TimeSpan.FromMinutes(2);

    /// <summary>Cancels the compilation (the source generator passes its own token); checked between nodes.</summary>
    public System.Threading.CancellationToken CancellationToken { get; set; }
}
