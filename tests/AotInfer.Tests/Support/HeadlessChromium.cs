using System;
using System.Diagnostics;
using System.IO;

namespace AotInfer.Tests.Support;

/// <summary>
/// Runs Debian's <c>chromium</c> headless on a local file. The browser is required: a missing browser fails the
/// test with the command that installs it (CI installs it in <c>.ci/run</c>), never skips it silently.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>The browser executable on PATH, or an exception saying how to install it.</summary>
    public static string Executable()
    {
        foreach (var name in new[] { "chromium", "chromium-browser" })
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
                if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        throw new InvalidOperationException("headless Chromium is required for the report test and is not on PATH: install it with 'apt-get install -y chromium' (.ci/run does this)");
    }

    /// <summary>The DOM of <paramref name="htmlPath"/> after the page has loaded and run its scripts.</summary>
    public static string DumpDom(string htmlPath) => Run($"--dump-dom \"{new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri}\"");

    /// <summary>Writes a PNG screenshot of <paramref name="htmlPath"/> at the given window size.</summary>
    public static void Screenshot(string htmlPath, string pngPath, int width, int height)
    {
        Run($"--screenshot=\"{Path.GetFullPath(pngPath)}\" --window-size={width},{height} \"{new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri}\"");
        if (!File.Exists(pngPath)) throw new InvalidOperationException($"chromium wrote no screenshot at {pngPath}");
    }

    static string Run(string arguments)
    {
        // --no-sandbox: test machines and CI containers run as root, where Chromium's sandbox refuses to start.
        string profile = Directory.CreateTempSubdirectory("chromium-profile").FullName;
        var info = new ProcessStartInfo(Executable(), $"--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir=\"{profile}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // The machine is shared and loaded: a cold browser start can take a while.
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish within 180 s");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"chromium exited with {process.ExitCode}: {stderr.Result}");
        try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        return stdout.Result;
    }
}
