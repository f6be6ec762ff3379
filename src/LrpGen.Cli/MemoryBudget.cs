using System;
using System.Globalization;
using System.IO;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>What one relevance pass of a transformer costs in memory, from its configuration.</summary>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads per block.</param>
/// <param name="Hidden">Hidden size.</param>
/// <param name="Intermediate">Width of the MLP per token (for a mixture of experts: the experts each token uses).</param>
/// <param name="WeightBytes">The weights in the dtype the model runs in.</param>
/// <param name="HalfPrecision">Whether the model runs in bfloat16 or float16 (its pass keeps half-precision copies
/// beside the float32 ones).</param>
public sealed record PassShape(int Layers, int Heads, int Hidden, int Intermediate, long WeightBytes, bool HalfPrecision = false);

/// <summary>The memory bound of <c>lrpgen explain</c>: an estimate of the peak memory of loading the model and one
/// relevance pass, checked before any work against the memory available (or the user's <c>--max-memory</c>).</summary>
public static class MemoryBudget
{
    /// <summary>Peak bytes of loading the weights and explaining <paramref name="tokens"/> tokens (batch 1).
    /// <para>The attention scores dominate: the pass keeps each block's attention probabilities [heads, T, T] for the
    /// softmax rule, and the backward of one block holds about two more float32 [heads, T, T] while it runs; the rest
    /// grows linearly in T, about 10 float32 values per token per block per unit of (hidden + intermediate). In half
    /// precision the pass also keeps half-precision copies beside the float32 ones:</para>
    /// <para>float32: bytes = weights + 4 (L + 2) H T^2 + 40 L T (hidden + intermediate);</para>
    /// <para>bfloat16 / float16: bytes = weights + 2 (3 L + 5) H T^2 + 40 L T (hidden + intermediate).</para>
    /// <para>Measured against the peak RSS of <c>lrpgen explain --method attnlrp</c> on the golden LLaMA (hidden 64,
    /// 4 heads, intermediate 160) with 1, 2 and 4 blocks, minus the same run at 16 tokens (/usr/bin/time -f %M),
    /// measured MB / estimated MB: float32 L=1 T=2048 218 / 220, L=1 T=4096 838 / 842, L=2 T=1024 88 / 86,
    /// L=2 T=4096 1147 / 1147, L=4 T=2048 471 / 476, L=4 T=4096 1748 / 1757 (within 3% either way; gradx L=2
    /// T=4096 1153, cplrp 905); bfloat16 L=1 T=4096 1094 / 1111, L=2 1515 / 1550, L=4 2342 / 2428 (estimate 2-4%
    /// above). The check below adds a 10% margin on top.</para></summary>
    public static long EstimatePeakBytes(PassShape shape, long tokens)
    {
        ArgumentNullException.ThrowIfNull(shape);
        double t = tokens, l = shape.Layers;
        double attention = (shape.HalfPrecision ? 2.0 * (3 * l + 5) : 4.0 * (l + 2)) * shape.Heads * t * t;
        double linear = 40.0 * l * t * (shape.Hidden + shape.Intermediate);
        return (long)Math.Min(long.MaxValue / 2, shape.WeightBytes + attention + linear);
    }

    /// <summary>The margin over the estimate that the check requires.</summary>
    public const double Margin = 1.10;

    /// <summary>The most tokens whose estimate (with the margin) fits in <paramref name="bytes"/>; 0 if none.</summary>
    public static long MaxTokens(PassShape shape, long bytes)
    {
        long low = 0, high = 1;
        while (high < (1L << 40) && Fits(shape, high, bytes)) high *= 2;
        while (low + 1 < high)
        {
            long mid = low + (high - low) / 2;
            if (Fits(shape, mid, bytes)) low = mid; else high = mid;
        }
        return low;
    }

    private static bool Fits(PassShape shape, long tokens, long bytes) => EstimatePeakBytes(shape, tokens) * Margin <= bytes;

    /// <summary>Refuses a pass whose estimate (with the margin) exceeds the bound: the user's --max-memory, else the
    /// memory available now. The message says what would fit.</summary>
    public static void Check(PassShape shape, long tokens, long? maxMemory, string what)
    {
        var (bound, source) = maxMemory is long user ? (user, "--max-memory") : Available() ?? (long.MaxValue, "");
        long need = EstimatePeakBytes(shape, tokens);
        if (need * Margin <= bound) return;
        long fit = MaxTokens(shape, bound);
        throw new CliRuntimeException($"{what} of {tokens} tokens needs about {Format(need)} (weights {Format(shape.WeightBytes)}, "
            + $"attention relevance of {shape.Layers} blocks x {shape.Heads} heads x {tokens}^2), more than the {Format(bound)} "
            + $"{(source == "--max-memory" ? "that --max-memory allows" : $"available ({source})")}; "
            + (fit > 0 ? $"at most {fit} tokens fit: give a shorter prompt" : "the weights alone do not fit")
            + (source == "--max-memory" ? ", or raise --max-memory." : ", or set the bound with --max-memory SIZE if you know more memory is there."));
    }

    /// <summary>The memory this process can still use: MemAvailable of /proc/meminfo, lowered to the cgroup's limit
    /// minus its usage when a limit is set (cgroup v2, else v1); null where neither can be read.</summary>
    public static (long Bytes, string Source)? Available()
    {
        (long Bytes, string Source)? best = null;
        if (MemInfoAvailable() is long mem) best = (mem, "MemAvailable in /proc/meminfo");
        foreach (var (limitFile, usageFile) in new[]
        {
            ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
        })
        {
            if (ReadLong(limitFile) is not long limit || ReadLong(usageFile) is not long usage) continue;
            // cgroup v1 writes a huge number for "no limit".
            if (limit >= (1L << 60)) continue;
            long left = Math.Max(0, limit - usage);
            if (best is null || left < best.Value.Bytes) best = (left, $"cgroup limit {limitFile}");
            break;
        }
        return best;
    }

    private static long? MemInfoAvailable()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            if (line is null) return null;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib * 1024 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static long? ReadLong(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var text = File.ReadAllText(path).Trim();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;   // "max": no limit
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>A size as --max-memory takes it: a number with an optional unit K, M, G or T (powers of 1024; "GB",
    /// "GiB" and lower case are the same), e.g. 8G, 512M, 1.5GiB, 1000000 (bytes). Null if malformed.</summary>
    public static long? ParseSize(string text)
    {
        var s = text.Trim();
        int end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.')) end++;
        if (end == 0 || !double.TryParse(s[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return null;
        var unit = s[end..].Trim().ToUpperInvariant();
        double scale = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => double.NaN,
        };
        double bytes = number * scale;
        return double.IsFinite(bytes) && bytes >= 1 && bytes < long.MaxValue ? (long)bytes : null;
    }

    public static string Format(long bytes) =>
        bytes >= 1L << 30 ? $"{(bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture)} GiB"
        : $"{(bytes / (double)(1L << 20)).ToString("0", CultureInfo.InvariantCulture)} MiB";
}
