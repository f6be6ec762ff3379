using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace LrpGen.Cli;

/// <summary>The most memory this process has held so far (its high-water mark): what a user needs to know to size
/// the machine for a prompt. Linux: VmHWM of /proc/self/status, which counts LibTorch's native allocations;
/// elsewhere: <see cref="Process.PeakWorkingSet64"/>.</summary>
public static class PeakMemory
{
    /// <summary>The peak in bytes and where it was read.</summary>
    public static (long Bytes, string Source) Read()
    {
        if (StatusKiB("VmHWM") is long kib) return (kib * 1024, "VmHWM");
        using var self = Process.GetCurrentProcess();
        return (self.PeakWorkingSet64, "peak working set");
    }

    /// <summary>The progress line: "peak memory 1234.5 MiB (VmHWM)".</summary>
    public static string Describe()
    {
        var (bytes, source) = Read();
        return $"peak memory {(bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture)} MiB ({source})";
    }

    /// <summary>A "Name:   123 kB" field of /proc/self/status in KiB; null where the file or the field is missing.</summary>
    internal static long? StatusKiB(string field)
    {
        try
        {
            if (!File.Exists("/proc/self/status")) return null;
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    var parts = line.Substring(field.Length + 1).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                    return long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib : null;
                }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
