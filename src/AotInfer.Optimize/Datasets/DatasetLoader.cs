using System;
using System.IO;
using System.Linq;
using AotInfer.Onnx;

namespace AotInfer.Optimize.Datasets;

/// <summary>
/// Loads a dataset from a specification string:
/// <list type="bullet">
/// <item><c>fashion-mnist:DIR</c> — the 10,000 test images of an MNIST-layout folder (t10k-*-idx?-ubyte[.gz]);
/// <c>fashion-mnist-train:DIR</c> the 60,000 training images.</item>
/// <item><c>idx:IMAGES,LABELS</c> — any pair of IDX files, gzip or raw.</item>
/// <item><c>pb:IMAGES.pb,LABELS.pb</c> — two TensorProto files; the values are used as stored.</item>
/// </list>
/// IDX pixels become <c>pixel / 255</c> in a [N,1,H,W] layout.
/// </summary>
public static class DatasetLoader
{
    /// <summary>Loads the dataset <paramref name="spec"/> describes.</summary>
    public static LabeledImages Load(string spec)
    {
        int colon = spec.IndexOf(':');
        if (colon <= 0) throw new ArgumentException($"dataset '{spec}' must be KIND:PATH (fashion-mnist:DIR, fashion-mnist-train:DIR, idx:IMAGES,LABELS or pb:IMAGES.pb,LABELS.pb)");
        string kind = spec.Substring(0, colon), rest = spec.Substring(colon + 1);
        return kind switch
        {
            "fashion-mnist" or "mnist" => FromIdx(FindIdx(rest, "t10k-images"), FindIdx(rest, "t10k-labels"), spec),
            "fashion-mnist-train" or "mnist-train" => FromIdx(FindIdx(rest, "train-images"), FindIdx(rest, "train-labels"), spec),
            "idx" => FromIdx(Pair(rest, spec).Images, Pair(rest, spec).Labels, spec),
            "pb" => FromTensorProtos(Pair(rest, spec).Images, Pair(rest, spec).Labels, spec),
            _ => throw new ArgumentException($"dataset kind '{kind}' is unknown (fashion-mnist, fashion-mnist-train, idx, pb)"),
        };
    }

    static (string Images, string Labels) Pair(string rest, string spec)
    {
        var parts = rest.Split(',');
        if (parts.Length != 2) throw new ArgumentException($"dataset '{spec}' needs two files separated by a comma: IMAGES,LABELS");
        return (parts[0], parts[1]);
    }

    static string FindIdx(string directory, string stem)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"dataset folder '{directory}' does not exist");
        var match = Directory.GetFiles(directory, stem + "-idx?-ubyte*").OrderBy(f => f.Length).FirstOrDefault();
        return match ?? throw new FileNotFoundException($"no {stem}-idx?-ubyte[.gz] file in '{directory}'");
    }

    /// <summary>Reads IDX images and labels; pixels are scaled to [0,1].</summary>
    public static LabeledImages FromIdx(string imagesPath, string labelsPath, string description)
    {
        var (imageDims, pixels) = IdxReader.ReadBytes(imagesPath);
        var (labelDims, labelBytes) = IdxReader.ReadBytes(labelsPath);
        if (labelDims.Length != 1 || labelDims[0] != imageDims[0])
            throw new InvalidDataException($"{labelsPath}: {string.Join("x", labelDims)} labels for {imageDims[0]} images");
        var values = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) values[i] = pixels[i] / 255f;
        // [N,H,W] images become [N,1,H,W]: the single channel the models expect.
        int[] sampleShape = imageDims.Length == 3 ? new[] { 1, imageDims[1], imageDims[2] } : imageDims.Skip(1).ToArray();
        return new LabeledImages(values, sampleShape, labelBytes.Select(b => (int)b).ToArray(), description);
    }

    /// <summary>Reads images and labels stored as TensorProto files; values are used as stored.</summary>
    public static LabeledImages FromTensorProtos(string imagesPath, string labelsPath, string description)
    {
        var images = TensorProtoReader.Read(OnnxModelLoader.LoadTensorFile(imagesPath), null);
        var labels = TensorProtoReader.Read(OnnxModelLoader.LoadTensorFile(labelsPath), null);
        if (images.Shape.Length < 2) throw new InvalidDataException($"{imagesPath}: images need a batch dimension, shape is [{string.Join(",", images.Shape)}]");
        var values = images.ToDouble().Select(v => (float)v).ToArray();
        var labelValues = labels.ToInt64().Select(v => (int)v).ToArray();
        if (labelValues.Length != images.Shape[0])
            throw new InvalidDataException($"{labelsPath}: {labelValues.Length} labels for {images.Shape[0]} images");
        return new LabeledImages(values, images.Shape.Skip(1).ToArray(), labelValues, description);
    }
}
