using System;
using System.Collections.Generic;
using System.Linq;
using AotInfer.Onnx;
using AotInfer.Onnx.Proto;
using AotInfer.Optimize.Onnx;
using AotInfer.Optimize.Training.Ops;

namespace AotInfer.Optimize.Training;

/// <summary>
/// An ONNX model turned into something that trains: the nodes as <see cref="TrainingOp"/>s in graph order, the
/// float initializers of Gemm/MatMul/Conv/BatchNormalization (and biases added after MatMul/Conv) as
/// <see cref="Parameter"/>s, BatchNormalization running statistics as state, everything else as constants.
/// <see cref="Forward"/> runs a batch, <see cref="Backward"/> turns the loss gradient of the logits into parameter
/// gradients (reverse mode), <see cref="WriteTo"/> puts the trained values back into the model.
/// </summary>
/// <remarks>
/// The loss attaches to the logits: the first graph output, or the input of the Softmax/LogSoftmax that produces
/// it (that node is skipped while training, which is the same function and numerically safer).
/// </remarks>
public sealed class TrainingGraph
{
    readonly List<TrainingOp> _ops;
    readonly Dictionary<string, Parameter> _parameters;
    readonly List<string> _state;
    readonly TrainingContext _context;

    TrainingGraph(string inputName, int[]? sampleShape, string logitsName, bool outputIsSoftmax, List<TrainingOp> ops,
        Dictionary<string, Parameter> parameters, List<string> state, TrainingContext context)
    {
        InputName = inputName;
        SampleShape = sampleShape;
        LogitsName = logitsName;
        OutputIsSoftmax = outputIsSoftmax;
        _ops = ops;
        _parameters = parameters;
        _state = state;
        _context = context;
    }

    /// <summary>The graph input the batches feed.</summary>
    public string InputName { get; }

    /// <summary>Shape of one sample as the model declares it (without the batch dimension), or null when it has symbolic dimensions.</summary>
    public int[]? SampleShape { get; }

    /// <summary>The value the loss is computed on.</summary>
    public string LogitsName { get; }

    /// <summary>True when the model's output is a Softmax/LogSoftmax of <see cref="LogitsName"/> (skipped while training).</summary>
    public bool OutputIsSoftmax { get; }

    /// <summary>The trainable parameters, in initializer order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters.Values.ToList();

    /// <summary>Training mode (batch statistics, dropout) or evaluation mode.</summary>
    public bool Training
    {
        get => _context.Training;
        set => _context.Training = value;
    }

    /// <summary>The loss gradient of the graph input after <see cref="Backward"/> (only with <c>inputGradient</c> at build time).</summary>
    public TrainingTensor? InputGradient => _context.Gradient(InputName);

    /// <summary>
    /// Builds the training graph of <paramref name="model"/>. Every node that cannot be trained is reported at once
    /// (node name and op) in one <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <param name="model">The model (not modified).</param>
    /// <param name="modelDirectory">Folder external initializer data is read from.</param>
    /// <param name="seed">Seed of Dropout's masks.</param>
    /// <param name="inputGradient">Also compute the gradient of the graph input (gradient checks).</param>
    public static TrainingGraph Build(ModelProto model, string? modelDirectory = null, int seed = 1, bool inputGradient = false)
    {
        var graph = new GraphEditor(model, modelDirectory);
        var context = new TrainingContext(seed);
        var input = graph.Graph.Input.FirstOrDefault(i => !graph.IsConstant(i.Name) && graph.Initializer(i.Name) is null)
            ?? throw new InvalidOperationException("the model has no graph input to feed");
        if (graph.Graph.Output.Count == 0) throw new InvalidOperationException("the model has no graph output");
        var constantNodes = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var node in graph.Graph.Node.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx"))
        {
            var value = node.Attribute.FirstOrDefault(a => a.Name == "value" && a.T is not null);
            if (value is not null) constantNodes[node.Output[0]] = TensorProtoReader.Read(value.T, modelDirectory);
        }
        var setup = new OpSetup(graph, graph.OnnxOpset, constantNodes);

        var (logits, skipped) = FindLogits(graph);
        var parameters = FindParameters(graph);
        var state = new List<string>();
        var ops = new List<TrainingOp>();
        var errors = new List<string>();
        foreach (var node in graph.Graph.Node)
        {
            if (ReferenceEquals(node, skipped) || constantNodes.ContainsKey(node.Output.FirstOrDefault() ?? "")) continue;
            try
            {
                var op = TrainingOpFactory.Create(node, setup);
                ops.Add(op);
                if (op is BatchNormalizationOp bn) state.AddRange(new[] { bn.RunningMean, bn.RunningVariance }.Where(graph.IsConstant));
            }
            catch (InvalidOperationException e) { errors.Add(e.Message); }
        }
        if (errors.Count > 0) throw new InvalidOperationException($"cannot train this model: {string.Join("; ", errors)}");

        // Values that exist before the first node runs: parameters, state, float constants.
        foreach (var p in parameters.Values)
        {
            context.Define(p.Name, p.Values);
            context.DefineGradient(p.Name, p.Gradient);
            context.RequireGradient(p.Name);
        }
        foreach (var name in graph.Graph.Initializer.Select(t => t.Name).Where(n => !parameters.ContainsKey(n) && graph.IsConstant(n)))
        {
            var tensor = graph.ReadFloat(name);
            if (tensor is not null) context.Define(name, new TrainingTensor(tensor.Shape, tensor.As<float>().ToArray()));
        }
        foreach (var (name, tensor) in constantNodes.Where(c => c.Value.Type == DataType.Float))
            context.Define(name, new TrainingTensor(tensor.Shape, tensor.As<float>().ToArray()));
        foreach (var name in state)
            if (!context.HasValue(name)) throw new InvalidOperationException($"BatchNormalization statistics '{name}' must be a float initializer");

        if (inputGradient) context.RequireGradient(input.Name);
        foreach (var op in ops)
            if (op.Inputs.Any(context.RequiresGradient))
                foreach (var output in op.Outputs) context.RequireGradient(output);

        return new TrainingGraph(input.Name, DeclaredSampleShape(input), logits, skipped is not null, ops, parameters, state, context);
    }

    /// <summary>Runs <paramref name="batch"/> samples (row-major, each of the sample shape) and returns the logits.</summary>
    public TrainingTensor Forward(ReadOnlySpan<float> samples, int batch, int[] sampleShape)
    {
        var shape = new int[sampleShape.Length + 1];
        shape[0] = batch;
        sampleShape.CopyTo(shape, 1);
        var input = _context.Output(InputName, shape);
        if (samples.Length != input.Length) throw new ArgumentException($"{samples.Length} values do not make a batch of {batch} samples of [{string.Join(",", sampleShape)}]");
        samples.CopyTo(input.Span);
        foreach (var op in _ops) op.Forward(_context);
        return _context.Value(LogitsName);
    }

    /// <summary>
    /// Reverse mode: from dLoss/dlogits (shaped like the last <see cref="Forward"/>'s logits) fills every
    /// parameter's <see cref="Parameter.Gradient"/> (zero for parameters the loss does not reach).
    /// </summary>
    public void Backward(ReadOnlySpan<float> logitsGradient)
    {
        _context.BeginBackward();
        _context.AddGradient(LogitsName, logitsGradient);
        for (int i = _ops.Count - 1; i >= 0; i--)
        {
            var op = _ops[i];
            if (op.Outputs.Any(_context.HasGradient)) op.Backward(_context);
        }
        foreach (var p in _parameters.Values)
            if (!_context.HasGradient(p.Name)) p.Gradient.Span.Clear();
    }

    /// <summary>The current value of <paramref name="name"/> (after a forward pass, any intermediate value).</summary>
    public TrainingTensor Value(string name) => _context.Value(name);

    /// <summary>Writes the trained parameters and BatchNormalization statistics back into <paramref name="model"/>'s initializers.</summary>
    public void WriteTo(ModelProto model, string? modelDirectory = null)
    {
        var graph = new GraphEditor(model, modelDirectory);
        foreach (var name in _parameters.Keys.Concat(_state))
        {
            var value = _context.Value(name);
            if (graph.Initializer(name) is null) throw new InvalidOperationException($"the model has no initializer '{name}' to write the trained values into");
            graph.SetInitializer(name, new Tensor(DataType.Float, (int[])value.Shape.Clone(), value.Span.ToArray()));
        }
    }

    static (string Logits, NodeProto? Skipped) FindLogits(GraphEditor graph)
    {
        string output = graph.Graph.Output[0].Name;
        var producer = graph.Producer(output);
        if (producer is not null && producer.OpType is "Softmax" or "LogSoftmax" && producer.Domain is "" or "ai.onnx"
            && graph.Consumers(output).Count == 0 && graph.Graph.Output.Count(o => o.Name == output) == 1)
            return (producer.Input[0], producer);
        return (output, null);
    }

    /// <summary>The trainable float initializers, by the role their consumer gives them.</summary>
    static Dictionary<string, Parameter> FindParameters(GraphEditor graph)
    {
        var roles = new Dictionary<string, ParameterRole>(StringComparer.Ordinal);
        void Mark(NodeProto node, int input, ParameterRole role)
        {
            if (node.Input.Count > input && graph.IsConstant(node.Input[input]) && graph.Initializer(node.Input[input])!.DataType == (int)DataType.Float)
                roles.TryAdd(node.Input[input], role);
        }
        foreach (var node in graph.Graph.Node.Where(n => n.Domain is "" or "ai.onnx"))
        {
            switch (node.OpType)
            {
                case "Gemm" or "Conv":
                    Mark(node, 1, ParameterRole.Weight);
                    Mark(node, 2, ParameterRole.Bias);
                    break;
                case "MatMul":
                    Mark(node, 1, ParameterRole.Weight);
                    break;
                case "BatchNormalization":
                    Mark(node, 1, ParameterRole.Normalization);
                    Mark(node, 2, ParameterRole.Normalization);
                    break;
                case "Add":
                    // MatMul + Add and Conv + Add are how some exporters write a layer's bias.
                    for (int side = 0; side < 2; side++)
                        if (graph.Producer(node.Input[1 - side]) is { OpType: "MatMul" or "Conv" or "Gemm" }) Mark(node, side, ParameterRole.Bias);
                    break;
            }
        }
        var parameters = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var initializer in graph.Graph.Initializer)
        {
            if (!roles.TryGetValue(initializer.Name, out var role)) continue;
            var tensor = graph.ReadFloat(initializer.Name)!;
            parameters[initializer.Name] = new Parameter(initializer.Name, tensor.Shape, tensor.As<float>().ToArray(), role);
        }
        return parameters;
    }

    static int[]? DeclaredSampleShape(ValueInfoProto input)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count < 1 || dims.Skip(1).Any(d => d.DimValue <= 0)) return null;
        return dims.Skip(1).Select(d => (int)d.DimValue).ToArray();
    }
}
