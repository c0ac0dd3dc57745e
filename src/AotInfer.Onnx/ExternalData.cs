using System;
using System.IO;
using AotInfer.Onnx.Proto;

namespace AotInfer.Onnx;

/// <summary>
/// Reads tensor bytes stored outside the model file. The location must name a file inside the model's folder:
/// absolute paths, <c>..</c> segments and links that lead out of the folder are rejected, and offset/length are
/// checked against the file, so a hostile model cannot read other files.
/// </summary>
public static class ExternalData
{
    /// <summary>Reads the bytes of an external tensor.</summary>
    public static byte[] Read(TensorProto proto, string? modelDirectory, string what)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseLong(entry.Value, what, "offset"); break;
                case "length": length = ParseLong(entry.Value, what, "length"); break;
                case "checksum": break;
                default: throw new InvalidModelException($"{what}: unknown external_data key '{entry.Key}'");
            }
        }
        if (string.IsNullOrEmpty(location)) throw new InvalidModelException($"{what}: external data has no location");
        if (modelDirectory is null) throw new InvalidModelException($"{what}: external data is not allowed here (no model folder)");
        string path = ResolveInside(modelDirectory, location!, what);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (offset < 0 || offset > stream.Length) throw new InvalidModelException($"{what}: external data offset {offset} is outside '{location}' ({stream.Length} bytes)");
        if (length < 0) length = stream.Length - offset;
        if (length > stream.Length - offset) throw new InvalidModelException($"{what}: external data length {length} at offset {offset} runs past the end of '{location}' ({stream.Length} bytes)");
        if (length > int.MaxValue) throw new InvalidModelException($"{what}: external data of {length} bytes is too large");
        var bytes = new byte[length];
        stream.Position = offset;
        int read = 0;
        while (read < bytes.Length)
        {
            int n = stream.Read(bytes, read, bytes.Length - read);
            if (n == 0) throw new InvalidModelException($"{what}: '{location}' ended early");
            read += n;
        }
        return bytes;
    }

    /// <summary>Resolves <paramref name="location"/> under <paramref name="directory"/>, refusing anything that leaves it.</summary>
    public static string ResolveInside(string directory, string location, string what)
    {
        if (location.IndexOf('\0') >= 0) throw new InvalidModelException($"{what}: external data location contains a NUL character");
        if (Path.IsPathRooted(location) || location.StartsWith("/", StringComparison.Ordinal) || location.StartsWith("\\", StringComparison.Ordinal))
            throw new InvalidModelException($"{what}: external data location '{location}' is an absolute path; it must be relative to the model's folder");
        foreach (var segment in location.Split('/', '\\'))
            if (segment == "..") throw new InvalidModelException($"{what}: external data location '{location}' leaves the model's folder ('..')");
        string root = Path.GetFullPath(directory);
        string full = Path.GetFullPath(Path.Combine(root, location));
        if (!IsUnder(full, root)) throw new InvalidModelException($"{what}: external data location '{location}' leaves the model's folder");
        if (!File.Exists(full)) throw new InvalidModelException($"{what}: external data file '{location}' does not exist next to the model");
        // A symbolic link (the file or any folder on the way) must not lead out of the model's folder.
        string real = RealPath(full);
        string realRoot = RealPath(root);
        if (!IsUnder(real, realRoot)) throw new InvalidModelException($"{what}: external data location '{location}' is a link that leaves the model's folder");
        return full;
    }

    static bool IsUnder(string path, string root)
    {
        string prefix = root.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>Follows symbolic links on every segment of an absolute path.</summary>
    static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string? root = Path.GetPathRoot(full);
        string current = root ?? "/";
        foreach (var part in full.Substring(current.Length).Split(new[] { Path.DirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            for (int hops = 0; hops < 32; hops++)
            {
                FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
                string? target = LinkTarget(info);
                if (target is null) break;
                next = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target));
            }
            current = next;
        }
        return current;
    }

    static string? LinkTarget(FileSystemInfo info)
    {
        // FileSystemInfo.LinkTarget exists on .NET 6+, not netstandard2.0: look it up so one build serves both.
        var property = info.GetType().GetProperty("LinkTarget");
        return property?.GetValue(info) as string;
    }

    static long ParseLong(string s, string what, string key) =>
        long.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v : throw new InvalidModelException($"{what}: external data {key} '{s}' is not a non-negative integer");
}
