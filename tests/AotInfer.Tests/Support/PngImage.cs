using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

namespace AotInfer.Tests.Support;

/// <summary>
/// A minimal PNG decoder for screenshots: 8-bit RGB or RGBA, non-interlaced (what Chromium writes). Enough to check
/// that a rendered page is not blank without an image library.
/// </summary>
public sealed class PngImage
{
    PngImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Bytes per pixel (3 RGB, 4 RGBA).</summary>
    public int Channels { get; }

    /// <summary>Unfiltered pixel rows, top to bottom.</summary>
    public byte[] Pixels { get; }

    /// <summary>The pixel at (x, y) as 0xRRGGBB.</summary>
    public int Rgb(int x, int y)
    {
        int i = (y * Width + x) * Channels;
        return Pixels[i] << 16 | Pixels[i + 1] << 8 | Pixels[i + 2];
    }

    /// <summary>Decodes a PNG file.</summary>
    public static PngImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        byte[] signature = { 137, 80, 78, 71, 13, 10, 26, 10 };
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(signature)) throw new InvalidDataException($"{path} is not a PNG file");
        int width = 0, height = 0, channels = 0;
        var data = new MemoryStream();
        for (int p = 8; p + 8 <= bytes.Length;)
        {
            int length = ReadInt(bytes, p);
            string type = System.Text.Encoding.ASCII.GetString(bytes, p + 4, 4);
            if (type == "IHDR")
            {
                width = ReadInt(bytes, p + 8);
                height = ReadInt(bytes, p + 12);
                byte depth = bytes[p + 16], color = bytes[p + 17], interlace = bytes[p + 20];
                if (depth != 8 || color is not (2 or 6) || interlace != 0) throw new InvalidDataException($"{path}: only 8-bit non-interlaced RGB/RGBA is decoded (depth {depth}, colour type {color}, interlace {interlace})");
                channels = color == 6 ? 4 : 3;
            }
            else if (type == "IDAT") data.Write(bytes, p + 8, length);
            else if (type == "IEND") break;
            p += 12 + length;
        }
        data.Position = 0;
        var raw = new MemoryStream();
        using (var z = new ZLibStream(data, CompressionMode.Decompress)) z.CopyTo(raw);
        return new PngImage(width, height, channels, Unfilter(raw.ToArray(), width, height, channels));
    }

    static int ReadInt(byte[] b, int p) => b[p] << 24 | b[p + 1] << 16 | b[p + 2] << 8 | b[p + 3];

    /// <summary>Reverses the per-row filters (None, Sub, Up, Average, Paeth).</summary>
    static byte[] Unfilter(byte[] raw, int width, int height, int channels)
    {
        int stride = width * channels;
        var pixels = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            int source = y * (stride + 1) + 1, row = y * stride;
            for (int x = 0; x < stride; x++)
            {
                int a = x >= channels ? pixels[row + x - channels] : 0;
                int b = y > 0 ? pixels[row - stride + x] : 0;
                int c = x >= channels && y > 0 ? pixels[row - stride + x - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG row {y} has unknown filter {filter}"),
                };
                pixels[row + x] = (byte)(raw[source + x] + predictor);
            }
        }
        return pixels;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Distinct colours and the fraction of pixels that are not the most common colour (the background).</summary>
    public (int Colors, double Foreground) Variety()
    {
        var counts = new Dictionary<int, int>();
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int rgb = Rgb(x, y);
                counts[rgb] = counts.TryGetValue(rgb, out int n) ? n + 1 : 1;
            }
        int background = 0;
        foreach (var n in counts.Values) background = Math.Max(background, n);
        return (counts.Count, 1 - background / (double)(Width * Height));
    }
}
