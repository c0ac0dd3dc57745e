using System.IO;
using System.IO.Compression;
using AotInfer.Optimize.Datasets;
using AotInfer.Tests.Support;
using Xunit;

namespace AotInfer.Tests.Optimize;

/// <summary>IDX and TensorProto dataset readers.</summary>
public class DatasetTests
{
    static byte[] Idx(byte[] header, byte[] data)
    {
        var bytes = new byte[header.Length + data.Length];
        header.CopyTo(bytes, 0);
        data.CopyTo(bytes, header.Length);
        return bytes;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxImagesAreScaledAndLabelled(bool gzip)
    {
        using var temporary = new TemporaryDirectory("idx");
        string dir = temporary.Path;
        var images = Idx(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2 }, new byte[] { 0, 255, 51, 102, 1, 2, 3, 4 });
        var labels = Idx(new byte[] { 0, 0, 8, 1, 0, 0, 0, 2 }, new byte[] { 7, 3 });
        string imagesPath = Path.Combine(dir, "i"), labelsPath = Path.Combine(dir, "l");
        if (gzip)
        {
            using (var s = new GZipStream(File.Create(imagesPath), CompressionLevel.Fastest)) s.Write(images);
            using (var s = new GZipStream(File.Create(labelsPath), CompressionLevel.Fastest)) s.Write(labels);
        }
        else
        {
            File.WriteAllBytes(imagesPath, images);
            File.WriteAllBytes(labelsPath, labels);
        }
        var data = DatasetLoader.Load($"idx:{imagesPath},{labelsPath}");
        Assert.Equal(2, data.Count);
        Assert.Equal(new[] { 1, 2, 2 }, data.SampleShape);
        Assert.Equal(new[] { 7, 3 }, data.Labels);
        Assert.Equal(1f, data.Sample(0)[1]);
        Assert.Equal(0.2f, data.Sample(0)[2], 6);
        Assert.Equal(4 / 255f, data.Sample(1)[3], 6);
    }

    [Fact]
    public void TruncatedIdxIsRejected()
    {
        using var temporary = new TemporaryDirectory("idx");
        string path = temporary.PathOf("bad");
        File.WriteAllBytes(path, new byte[] { 0, 0, 8, 1, 0, 0, 0, 5, 1, 2 });
        Assert.Throws<InvalidDataException>(() => IdxReader.ReadBytes(path));
    }

    [Fact]
    public void FashionMnistTestSplitHasTenThousandImages()
    {
        string dir = SharedMaterial.Require("datasets/fashion-mnist");
        var data = DatasetLoader.Load("fashion-mnist:" + dir);
        Assert.Equal(10000, data.Count);
        Assert.Equal(new[] { 1, 28, 28 }, data.SampleShape);
        Assert.Equal(10, data.ClassCount);
    }

    [Fact]
    public void DigitsTensorProtosLoadAsStored()
    {
        string dir = SharedMaterial.Require("datasets/digits");
        var data = DatasetLoader.Load($"pb:{dir}/test_images.pb,{dir}/test_labels.pb");
        Assert.True(data.Count > 0);
        Assert.Equal(10, data.ClassCount);
    }
}
