using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx.Proto;
using Google.Protobuf;

namespace AotInfer.Cli.Fuzz;

/// <summary>One mutated model and a description of how it was made (printed when it breaks something).</summary>
/// <param name="Seed">The model's own seed: <see cref="ModelMutator.Mutate"/> with it rebuilds the same bytes.</param>
/// <param name="Source">The corpus entry it came from.</param>
/// <param name="Description">The mutations applied, in order.</param>
/// <param name="Bytes">The mutated model file.</param>
public sealed record MutatedModel(int Seed, string Source, string Description, byte[] Bytes);

/// <summary>
/// Makes hostile variants of valid ONNX models: byte-level damage (bit flips, truncation, overwritten bytes) that
/// exercises the protobuf reader, and field-level mutations through the generated message classes (dims,
/// data types, attribute values, names, op types, opsets) that reach deep into the compiler with a well-formed file.
/// Deterministic: the same corpus and seed give the same models.
/// </summary>
public sealed class ModelMutator
{
    static readonly long[] InterestingInts = { 0, 1, -1, 2, -2, 3, 7, 64, 255, 256, 65535, int.MaxValue, int.MinValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, 1L << 32, 1 << 20 };
    static readonly float[] InterestingFloats = { 0f, -0f, 1f, -1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.Epsilon, 1e-30f, 1e30f };
    static readonly string[] OpTypes =
    {
        "Add", "Mul", "Relu", "Conv", "ConvTranspose", "MatMul", "Gemm", "Reshape", "Transpose", "Concat", "Slice", "Gather", "Split",
        "Squeeze", "Unsqueeze", "Expand", "Tile", "Pad", "Resize", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
        "Softmax", "ReduceSum", "ReduceMean", "ArgMax", "TopK", "Cast", "ConstantOfShape", "Range", "Shape", "Size", "Flatten",
        "Einsum", "OneHot", "Where", "CumSum", "ScatterND", "GatherND", "GatherElements", "DepthToSpace", "SpaceToDepth", "Trilu",
        "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "LayerNormalization",
        "InstanceNormalization", "LRN", "GridSample", "NonZero", "Compress", "Det", "EyeLike", "Clip", "If", "Loop", "Scan", "NoSuchOp",
    };

    readonly IReadOnlyList<(string Name, byte[] Bytes)> _corpus;

    /// <summary>Mutates models of <paramref name="corpus"/> (name and valid model bytes).</summary>
    public ModelMutator(IReadOnlyList<(string Name, byte[] Bytes)> corpus)
    {
        if (corpus.Count == 0) throw new ArgumentException("the fuzz corpus is empty", nameof(corpus));
        _corpus = corpus;
    }

    /// <summary>The mutated model for <paramref name="seed"/>.</summary>
    public MutatedModel Mutate(int seed)
    {
        var random = new Random(seed);
        var (name, original) = _corpus[random.Next(_corpus.Count)];
        var steps = new List<string>();
        byte[] bytes;
        int kind = random.Next(10);
        if (kind < 6)
        {
            var model = ModelProto.Parser.ParseFrom(original);
            int count = 1 + random.Next(3);
            for (int i = 0; i < count; i++) steps.Add(MutateFields(model, random));
            bytes = model.ToByteArray();
        }
        else bytes = (byte[])original.Clone();
        if (kind >= 6 || random.Next(8) == 0) bytes = MutateBytes(bytes, random, steps);
        return new MutatedModel(seed, name, string.Join("; ", steps), bytes);
    }

    static byte[] MutateBytes(byte[] bytes, Random random, List<string> steps)
    {
        switch (random.Next(4))
        {
            case 0:
            {
                int flips = 1 + random.Next(8);
                for (int i = 0; i < flips && bytes.Length > 0; i++)
                {
                    int at = random.Next(bytes.Length), bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    steps.Add($"flip bit {bit} of byte {at}");
                }
                return bytes;
            }
            case 1:
            {
                int length = bytes.Length == 0 ? 0 : random.Next(bytes.Length);
                steps.Add($"truncate to {length} of {bytes.Length} bytes");
                return bytes.Take(length).ToArray();
            }
            case 2:
            {
                byte[] values = { 0x00, 0xFF, 0x7F, 0x80, 0x01 };
                int writes = 1 + random.Next(4);
                for (int i = 0; i < writes && bytes.Length > 0; i++)
                {
                    int at = random.Next(bytes.Length);
                    bytes[at] = values[random.Next(values.Length)];
                    steps.Add($"byte {at} = 0x{bytes[at]:X2}");
                }
                return bytes;
            }
            default:
            {
                // Cut a slice out of the middle: length prefixes then point past their field.
                if (bytes.Length < 2) return bytes;
                int start = random.Next(bytes.Length - 1), length = 1 + random.Next(Math.Min(64, bytes.Length - start));
                steps.Add($"remove bytes {start}..{start + length}");
                return bytes.Take(start).Concat(bytes.Skip(start + length)).ToArray();
            }
        }
    }

    static string MutateFields(ModelProto model, Random random)
    {
        var g = model.Graph;
        switch (random.Next(12))
        {
            case 0 when g.Initializer.Count > 0:
            {
                var t = g.Initializer[random.Next(g.Initializer.Count)];
                if (t.Dims.Count == 0 || random.Next(4) == 0) { t.Dims.Add(Pick(random)); return $"initializer '{t.Name}': add dim {t.Dims[^1]}"; }
                int d = random.Next(t.Dims.Count);
                t.Dims[d] = random.Next(2) == 0 ? Pick(random) : t.Dims[d] + random.Next(-2, 3);
                return $"initializer '{t.Name}': dims[{d}] = {t.Dims[d]}";
            }
            case 1 when g.Initializer.Count > 0:
            {
                var t = g.Initializer[random.Next(g.Initializer.Count)];
                t.DataType = random.Next(-1, 26);
                return $"initializer '{t.Name}': data_type = {t.DataType}";
            }
            case 2:
            {
                var infos = g.Input.Concat(g.Output).Concat(g.ValueInfo).Where(v => v.Type?.TensorType is not null).ToList();
                if (infos.Count == 0) return "no value info";
                var info = infos[random.Next(infos.Count)];
                var tt = info.Type.TensorType;
                if (random.Next(3) == 0) { tt.ElemType = random.Next(-1, 26); return $"value '{info.Name}': elem_type = {tt.ElemType}"; }
                if (tt.Shape is null || tt.Shape.Dim.Count == 0 || random.Next(5) == 0)
                {
                    tt.Shape ??= new TensorShapeProto();
                    tt.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = Pick(random) });
                    return $"value '{info.Name}': add dim";
                }
                int d = random.Next(tt.Shape.Dim.Count);
                if (random.Next(4) == 0) { tt.Shape.Dim[d] = new TensorShapeProto.Types.Dimension { DimParam = "n" }; return $"value '{info.Name}': dim {d} symbolic"; }
                tt.Shape.Dim[d] = new TensorShapeProto.Types.Dimension { DimValue = random.Next(2) == 0 ? Pick(random) : random.Next(0, 9) };
                return $"value '{info.Name}': dim {d} = {tt.Shape.Dim[d].DimValue}";
            }
            case 3 or 4 or 5:
            {
                var withAttributes = g.Node.Where(n => n.Attribute.Count > 0).ToList();
                if (withAttributes.Count == 0) return "no attributes";
                var node = withAttributes[random.Next(withAttributes.Count)];
                var a = node.Attribute[random.Next(node.Attribute.Count)];
                return $"node '{node.Name}' ({node.OpType}) attribute '{a.Name}': {MutateAttribute(a, random)}";
            }
            case 6 when g.Node.Count > 0:
            {
                var node = g.Node[random.Next(g.Node.Count)];
                string old = node.OpType;
                node.OpType = OpTypes[random.Next(OpTypes.Length)];
                return $"node '{node.Name}': op {old} -> {node.OpType}";
            }
            case 7 when g.Node.Count > 0:
            {
                var node = g.Node[random.Next(g.Node.Count)];
                var names = g.Node.SelectMany(n => n.Input.Concat(n.Output)).Concat(g.Initializer.Select(i => i.Name)).Distinct().ToList();
                var list = random.Next(2) == 0 || node.Output.Count == 0 ? node.Input : node.Output;
                string which = list == node.Input ? "input" : "output";
                switch (random.Next(4))
                {
                    case 0 when list.Count > 0:
                    {
                        int i = random.Next(list.Count);
                        list[i] = names[random.Next(names.Count)];
                        return $"node '{node.Name}': {which} {i} = '{list[i]}'";
                    }
                    case 1 when list.Count > 0:
                    {
                        int i = random.Next(list.Count);
                        list.RemoveAt(i);
                        return $"node '{node.Name}': remove {which} {i}";
                    }
                    case 2:
                        list.Add(random.Next(2) == 0 ? "" : names[random.Next(names.Count)]);
                        return $"node '{node.Name}': add {which} '{list[^1]}'";
                    default:
                        if (list.Count > 0) list[random.Next(list.Count)] = "";
                        return $"node '{node.Name}': empty {which} name";
                }
            }
            case 8 when g.Node.Count > 0:
            {
                int i = random.Next(g.Node.Count);
                if (random.Next(2) == 0) { g.Node.RemoveAt(i); return $"remove node {i}"; }
                g.Node.Add(g.Node[i].Clone());
                return $"duplicate node {i}";
            }
            case 9:
            {
                if (model.OpsetImport.Count == 0) return "no opset";
                var o = model.OpsetImport[random.Next(model.OpsetImport.Count)];
                o.Version = random.Next(4) == 0 ? Pick(random) : random.Next(1, 25);
                return $"opset '{o.Domain}' = {o.Version}";
            }
            case 10 when g.Initializer.Count > 0:
            {
                var t = g.Initializer[random.Next(g.Initializer.Count)];
                if (!t.RawData.IsEmpty && random.Next(2) == 0)
                {
                    int length = random.Next(t.RawData.Length);
                    t.RawData = ByteString.CopyFrom(t.RawData.ToByteArray(), 0, length);
                    return $"initializer '{t.Name}': raw_data cut to {length} bytes";
                }
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = random.Next(2) == 0 ? "../../etc/passwd" : "/etc/passwd" });
                return $"initializer '{t.Name}': external data outside the folder";
            }
            default:
            {
                if (g.Node.Count == 0) return "no nodes";
                // Move a node to the end or the start: the importer must sort or reject it.
                int i = random.Next(g.Node.Count);
                var node = g.Node[i];
                g.Node.RemoveAt(i);
                g.Node.Insert(random.Next(2) == 0 ? 0 : g.Node.Count, node);
                return $"move node {i}";
            }
        }
    }

    static string MutateAttribute(AttributeProto a, Random random)
    {
        switch (random.Next(6))
        {
            case 0:
                a.I = Pick(random);
                return $"i = {a.I}";
            case 1:
                a.F = InterestingFloats[random.Next(InterestingFloats.Length)];
                return $"f = {a.F}";
            case 2:
                if (a.Ints.Count > 0 && random.Next(3) > 0)
                {
                    int i = random.Next(a.Ints.Count);
                    a.Ints[i] = random.Next(2) == 0 ? Pick(random) : a.Ints[i] + random.Next(-3, 4);
                    return $"ints[{i}] = {a.Ints[i]}";
                }
                if (a.Ints.Count > 0 && random.Next(2) == 0) { a.Ints.RemoveAt(a.Ints.Count - 1); return "drop last of ints"; }
                a.Ints.Add(Pick(random));
                return $"append {a.Ints[^1]} to ints";
            case 3:
                a.Type = (AttributeProto.Types.AttributeType)random.Next(0, 15);
                return $"type = {a.Type}";
            case 4:
            {
                string[] strings = { "", "NOTSET", "SAME_UPPER", "VALID", "linear", "nearest", "cubic", "asymmetric", "abc", "constant", "reflect", "edge" };
                a.S = ByteString.CopyFromUtf8(strings[random.Next(strings.Length)]);
                return $"s = '{a.S.ToStringUtf8()}'";
            }
            default:
                if (a.T is not null) { a.T.Dims.Add(Pick(random)); return "tensor: add dim"; }
                a.Floats.Add(InterestingFloats[random.Next(InterestingFloats.Length)]);
                return "append to floats";
        }
    }

    static long Pick(Random random) => random.Next(3) == 0 ? random.Next(-3, 12) : InterestingInts[random.Next(InterestingInts.Length)];
}
