using System.Collections.Generic;
using System.Linq;
using AotInfer.Compiler.IR;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Emit;

/// <summary>
/// What an op lowering needs to write its code: the identifiers of its input and output spans, static fields for
/// shapes and parameter tables, and scratch memory. Statements go to <see cref="Writer"/>.
/// </summary>
public sealed class EmitContext
{
    /// <summary>Prefix of the kernel library's namespace in generated code.</summary>
    public const string Kernels = "global::AotInfer.Kernels";

    readonly ModelEmitter _model;
    readonly Node _node;
    int _scratchBytes;

    internal EmitContext(ModelEmitter model, Node node, CodeWriter writer)
    {
        _model = model;
        _node = node;
        Writer = writer;
    }

    /// <summary>Where the node's statements go.</summary>
    public CodeWriter Writer { get; }

    /// <summary>Bytes of scratch this node asked for.</summary>
    public int ScratchBytes => _scratchBytes;

    /// <summary>Identifier of input <paramref name="index"/> as a <c>ReadOnlySpan&lt;T&gt;</c>.</summary>
    public string In(int index) =>
        _model.SpanName(_node.Input(index) ?? throw new UnsupportedModelException($"input {index} is required"));

    /// <summary>Identifier of output <paramref name="index"/> as a <c>Span&lt;T&gt;</c>.</summary>
    public string Out(int index) => _model.SpanName(_node.Outputs[index]);

    /// <summary>
    /// True when input <paramref name="index"/> is a slice of this node's output that its producer already wrote
    /// there (a Concat input planned in place by <see cref="Planning.ConcatInPlace"/>, a view input by
    /// <see cref="Planning.ViewInPlace"/>): nothing to copy.
    /// </summary>
    public bool InputWrittenInPlace(int index) => _node.Input(index) is { } input && _model.IsWrittenInPlace(input);

    /// <summary>C# element type of input <paramref name="index"/>.</summary>
    public string InType(int index) => DataTypes.CSharpName(_node.Input(index)!.Type);

    /// <summary>C# element type of output <paramref name="index"/>.</summary>
    public string OutType(int index) => DataTypes.CSharpName(_node.Outputs[index].Type);

    /// <summary>A static readonly <c>int[]</c> field holding <paramref name="values"/> (shared between equal arrays).</summary>
    public string IntArray(IEnumerable<int> values) => _model.StaticArray("int", values.Select(v => Literals.Int(v)).ToArray());

    /// <summary>A static readonly <c>long[]</c> field.</summary>
    public string LongArray(IEnumerable<long> values) => _model.StaticArray("long", values.Select(Literals.Long).ToArray());

    /// <summary>A static readonly <c>float[]</c> field.</summary>
    public string FloatArray(IEnumerable<float> values) => _model.StaticArray("float", values.Select(Literals.Float).ToArray());

    /// <summary>
    /// A constant the lowering computed at build time from constant inputs (re-laid-out weights, folded
    /// parameters), stored with the model's weights; returns an expression usable as a <c>ReadOnlySpan&lt;T&gt;</c>.
    /// </summary>
    public string Constant(Tensor value, string name) => _model.DerivedConstant(name, value);

    /// <summary>
    /// <see cref="Constant"/> for a weight matrix in a kernel's own layout: <paramref name="columns"/>
    /// maps its elements to the matrix's columns, so that its storage may keep one palette per column, as per-neuron
    /// clustering needs.
    /// </summary>
    public string KernelLayoutConstant(Tensor value, string name, ColumnLayout columns) => _model.DerivedConstant(name, value, columns);

    /// <summary>
    /// A static readonly field of the generated class, of C# type <paramref name="type"/>, set once at type
    /// initialisation from <paramref name="initializer"/> (e.g. weights re-laid out for a kernel). Returns its name.
    /// </summary>
    public string StaticField(string type, string initializer) => _model.StaticField(type, initializer);

    /// <summary>
    /// The static array holding constant input <paramref name="index"/>, for use in <see cref="StaticField"/>
    /// initialisers (the span identifier of <see cref="In"/> only exists inside <c>Run</c>).
    /// </summary>
    public string ConstantArray(int index) =>
        _model.ConstantArray(_node.Input(index) ?? throw new UnsupportedModelException($"input {index} is required"));

    /// <summary>
    /// A scratch span of <paramref name="count"/> elements of <paramref name="type"/>, valid while this node runs.
    /// Several requests by one node get disjoint memory.
    /// </summary>
    public string Scratch(DataType type, int count)
    {
        int size = DataTypes.SizeOf(type);
        int offset = (_scratchBytes + 63) / 64 * 64;
        _scratchBytes = offset + count * size;
        return $"{Kernels}.Arena.Slice<{DataTypes.CSharpName(type)}>(scratch, {offset}, {count})";
    }

    /// <summary>A C# literal of <paramref name="value"/> in the given element type.</summary>
    public static string Literal(DataType type, double value) => type switch
    {
        DataType.Float => Literals.Float((float)value),
        DataType.Double => Literals.Double(value),
        DataType.Float16 => $"(global::System.Half){Literals.Float((float)value)}",
        DataType.BFloat16 => $"({Kernels}.BFloat16){Literals.Float((float)value)}",
        DataType.Bool => value != 0 ? "true" : "false",
        DataType.Int64 => Literals.Long((long)value),
        _ => $"({DataTypes.CSharpName(type)}){Literals.Long((long)value)}",
    };
}
