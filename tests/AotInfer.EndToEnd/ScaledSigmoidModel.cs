namespace AotInfer.EndToEnd;

/// <summary>The attribute form: this part decides accessibility, the generator adds <c>Run</c> and the metadata.</summary>
[AotInfer.OnnxModel("models/scaled_sigmoid.onnx")]
public partial class ScaledSigmoidModel;
