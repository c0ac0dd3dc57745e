using AotInfer.Compiler.Emit;
using AotInfer.Onnx;

namespace AotInfer.Compiler.Ops;

/// <summary>
/// One ONNX operator (or a family sharing one file): its shape and type rule, its compile-time evaluation (for
/// constant folding of shape computations) and the C# it emits. Adding an op: derive from this, register it in
/// <see cref="OpRegistry"/>, add its conformance tests to the expected list.
/// </summary>
public abstract class OpLowering
{
    /// <summary>The ONNX operator type names this class handles.</summary>
    public abstract string[] OpTypes { get; }

    /// <summary>The operator domain: empty for the default ONNX domain.</summary>
    public virtual string Domain => "";

    /// <summary>Sets the type and shape of every output; throws <see cref="UnsupportedModelException"/> for what is not supported.</summary>
    public abstract void Infer(OpContext op);

    /// <summary>
    /// Computes the outputs at compile time when every input is constant, or returns null when this op has no
    /// compile-time evaluator (then the node runs at run time). Shape-computing ops implement it so that
    /// Reshape/Expand/Slice receive constant arguments.
    /// </summary>
    public virtual Tensor[]? Evaluate(OpContext op) => null;

    /// <summary>
    /// False when the generated code never reads input <paramref name="inputIndex"/> itself, e.g. a constant weight
    /// the lowering re-lays out at build time and stores through <see cref="EmitContext.Constant"/>; the original
    /// then is not stored in the generated class (unless another node reads it).
    /// </summary>
    public virtual bool ReadsInputAtRunTime(OpContext op, int inputIndex) => true;

    /// <summary>
    /// True when <see cref="Evaluate"/> needs only the static shapes and types of the inputs, not their values
    /// (Shape, Size): such nodes fold at compile time even when their inputs are computed at run time.
    /// </summary>
    public virtual bool EvaluatesFromShapes => false;

    /// <summary>
    /// True when the generated code of this op reads and writes raw tensors (float8, float4e2m1, 4-bit and 2-bit
    /// integers held as ONNX's packed bytes, see <see cref="RawEncoding"/>); no other op may touch them at run time.
    /// </summary>
    public virtual bool HandlesRawElements => false;

    /// <summary>Writes the statements that compute the outputs at run time.</summary>
    public abstract void Emit(OpContext op, EmitContext code);
}
