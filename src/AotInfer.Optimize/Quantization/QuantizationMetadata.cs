using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using AotInfer.Onnx.Proto;

namespace AotInfer.Optimize.Quantization;

/// <summary>
/// Keeps the quantiser's per-layer error report inside the written model (metadata key
/// <see cref="LayerErrorsKey"/>, JSON), so that <c>report</c> can plot it later from the model file alone.
/// </summary>
public static class QuantizationMetadata
{
    /// <summary>Metadata key of the per-layer error report.</summary>
    public const string LayerErrorsKey = "aotinfer.quantize.layer_errors";

    sealed record Entry(string Layer, string Op, double? Sqnr, double MaxError);

    /// <summary>Stores <paramref name="errors"/> in the model's metadata (replacing an earlier report).</summary>
    public static void WriteLayerErrors(ModelProto model, IReadOnlyList<LayerError> errors)
    {
        // JSON has no infinity: an exact layer is written with a null SQNR.
        var entries = errors.Select(e => new Entry(e.Layer, e.OpType, double.IsFinite(e.Sqnr) ? e.Sqnr : null, e.MaxError)).ToList();
        for (int i = model.MetadataProps.Count - 1; i >= 0; i--)
            if (model.MetadataProps[i].Key == LayerErrorsKey) model.MetadataProps.RemoveAt(i);
        model.MetadataProps.Add(new StringStringEntryProto { Key = LayerErrorsKey, Value = JsonSerializer.Serialize(entries) });
    }

    /// <summary>The per-layer error report stored in the model, or an empty list.</summary>
    public static List<LayerError> ReadLayerErrors(ModelProto model)
    {
        var entry = model.MetadataProps.FirstOrDefault(p => p.Key == LayerErrorsKey);
        if (entry is null) return new List<LayerError>();
        var entries = JsonSerializer.Deserialize<List<Entry>>(entry.Value) ?? new List<Entry>();
        return entries.Select(e => new LayerError(e.Layer, e.Op, e.Sqnr ?? double.PositiveInfinity, e.MaxError)).ToList();
    }
}
