using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using Google.Protobuf;

namespace AotInfer.Tests.Support;

/// <summary>Builds small ONNX models in code for tests (one or a few nodes, typed inputs, constant initializers).</summary>
public sealed class OnnxModelBuilder
{
    readonly GraphProto _graph = new() { Name = "test" };
    readonly int _opset;
    readonly Dictionary<string, int> _extraOpsets = new();

    /// <summary>A builder for a model importing the default domain at <paramref name="opset"/>.</summary>
    public OnnxModelBuilder(int opset = 17) => _opset = opset;

    /// <summary>Adds a graph input.</summary>
    public OnnxModelBuilder Input(string name, DataType type, params int[] shape)
    {
        _graph.Input.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds a graph input whose first dimension is the symbolic <paramref name="batchParam"/>.</summary>
    public OnnxModelBuilder BatchedInput(string name, DataType type, string batchParam, params int[] sampleShape)
    {
        var info = ValueInfo(name, type, sampleShape);
        info.Type.TensorType.Shape.Dim.Insert(0, new TensorShapeProto.Types.Dimension { DimParam = batchParam });
        _graph.Input.Add(info);
        return this;
    }

    /// <summary>Adds a graph output; the shape may be null to leave it to inference.</summary>
    public OnnxModelBuilder Output(string name, DataType type, int[]? shape = null)
    {
        _graph.Output.Add(ValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds a constant initializer.</summary>
    public OnnxModelBuilder Initializer(string name, Tensor value)
    {
        _graph.Initializer.Add(TensorProtoReader.Write(value, name));
        return this;
    }

    /// <summary>Adds a float initializer.</summary>
    public OnnxModelBuilder Initializer(string name, float[] values, params int[] shape) =>
        Initializer(name, new Tensor(DataType.Float, shape, values));

    /// <summary>Adds an int64 initializer.</summary>
    public OnnxModelBuilder Initializer(string name, long[] values, params int[] shape) =>
        Initializer(name, new Tensor(DataType.Int64, shape, values));

    /// <summary>Adds a node; attribute values may be long, float, string, long[], float[], string[] or <see cref="Tensor"/>.</summary>
    public OnnxModelBuilder Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes) =>
        NodeInDomain("", opType, inputs, outputs, attributes);

    /// <summary>Adds a node of another domain (e.g. com.microsoft), importing the domain at <paramref name="domainOpset"/>.</summary>
    public OnnxModelBuilder NodeInDomain(string domain, string opType, string[] inputs, string[] outputs, (string Name, object Value)[] attributes, int domainOpset = 1)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = $"{opType}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        if (domain.Length > 0) _extraOpsets[domain] = domainOpset;
        _graph.Node.Add(node);
        return this;
    }

    /// <summary>The model.</summary>
    public ModelProto Build()
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "AotInfer.Tests", Graph = _graph.Clone() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        foreach (var (domain, version) in _extraOpsets) model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        return model;
    }

    /// <summary>The serialized model.</summary>
    public byte[] ToBytes() => Build().ToByteArray();

    static ValueInfoProto ValueInfo(string name, DataType type, int[]? shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (int d in shape) tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
            case int[] iss: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(iss.Select(x => (long)x)); break;
            case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fs); break;
            case string[] ss: a.Type = AttributeProto.Types.AttributeType.Strings; a.Strings.AddRange(ss.Select(ByteString.CopyFromUtf8)); break;
            case Tensor t: a.Type = AttributeProto.Types.AttributeType.Tensor; a.T = TensorProtoReader.Write(t, name); break;
            default: throw new ArgumentException($"attribute '{name}' has unsupported value type {value.GetType().Name}");
        }
        return a;
    }
}
