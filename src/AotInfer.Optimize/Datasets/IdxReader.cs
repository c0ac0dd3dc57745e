using System;
using System.IO;
using System.IO.Compression;

namespace AotInfer.Optimize.Datasets;

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST (big-endian header: magic 0x0000TTNN with element type TT and
/// NN dimensions, then the dimensions, then the data), gzip-compressed or raw.
/// </summary>
public static class IdxReader
{
    const byte UnsignedByteType = 0x08;

    /// <summary>Reads an unsigned-byte IDX file; returns its dimensions and bytes.</summary>
    public static (int[] Dimensions, byte[] Data) ReadBytes(string path)
    {
        byte[] bytes = ReadMaybeGzip(path);
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{path}: not an IDX file (bad magic number)");
        if (bytes[2] != UnsignedByteType)
            throw new InvalidDataException($"{path}: IDX element type 0x{bytes[2]:x2} is not supported (only unsigned bytes)");
        int rank = bytes[3];
        int header = 4 + 4 * rank;
        if (rank == 0 || bytes.Length < header) throw new InvalidDataException($"{path}: truncated IDX header");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            int o = 4 + 4 * i;
            dims[i] = (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
            if (dims[i] <= 0) throw new InvalidDataException($"{path}: dimension {i} is {dims[i]}");
            count *= dims[i];
        }
        if (bytes.Length - header != count)
            throw new InvalidDataException($"{path}: {bytes.Length - header} data bytes, the header says {count}");
        return (dims, bytes.AsSpan(header).ToArray());
    }

    /// <summary>The file's bytes, decompressed when it starts with the gzip signature.</summary>
    public static byte[] ReadMaybeGzip(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var output = new MemoryStream();
        gzip.CopyTo(output);
        return output.ToArray();
    }
}
