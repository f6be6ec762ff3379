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
/// <param name="HalfPrecision">Whether the model runs in bfloat16 or float16 (its masks are half precision).</param>
/// <param name="DenseMasks">The additive [T, T] attention masks the model builds once for the whole pass: 1 for the
/// decoders (causal and padding), 2 when some of their layers use a sliding window, 0 for BERT and ViT (a padding
/// row [1, T] or none).</param>
public sealed record PassShape(int Layers, int Heads, int Hidden, int Intermediate, long WeightBytes, bool HalfPrecision = false,
    int DenseMasks = 0);

/// <summary>The memory bound of <c>lrpgen explain</c>: an estimate of the peak memory of loading the model and one
/// relevance pass, checked before any work against the memory available (or the user's <c>--max-memory</c>).</summary>
public static class MemoryBudget
{
    /// <summary>Bytes the pass keeps per token, per block, per unit of (hidden + intermediate), about 3 float32 values:
    /// the tape's activations (q, k and v instead of the attention probabilities, the MLP's inputs and gates) and the
    /// backward's gradients. Fitted to the runs below and rounded up (12.5 would do before the key ranges).</summary>
    public const double BytesPerTokenBlockUnit = 13;

    /// <summary>Peak bytes of loading the weights and explaining <paramref name="tokens"/> tokens (batch 1).
    /// <para>The fused attention (LrpGen.Rules.BlockAttention; the attention of every model in LrpGen.Models fuses)
    /// keeps q, k and v, not the [heads, T, T] probabilities, and recomputes the probabilities a block of query rows
    /// at a time within LrpOptions.AttentionBlockBytes (16 MiB by default), so the pass grows linearly in T. No plain
    /// forward runs before it (the target is picked from the pass's own logits). What stays quadratic is the decoders'
    /// additive attention masks [1, 1, T, T] in the model's dtype (e = 4 bytes, 2 in half precision), M of them (2
    /// with sliding-window layers), built once by DecoderInputs.Prepare in place: while they are built, the masks, the
    /// M boolean [T, T] patterns and one boolean [T, T] of blocked keys are alive, (M e + M + 1) T^2 bytes; then the
    /// pass keeps the masks and about one byte more per query-key pair (measured, its source not pinned down). The two
    /// phases do not overlap, so with L blocks and H heads:</para>
    /// <para>bytes = weights + max(building, (M e + 1) T^2 + 13 L T (hidden + intermediate) + min(16 MiB, 16 H T^2)),</para>
    /// <para>the last term being the attention block's temporaries (4 float32 [heads, rows, T], at most the block
    /// budget). BERT and ViT (M = 0, no T^2 term) are linear in T.</para>
    /// <para>Measured: peak RSS of <c>lrpgen explain --method attnlrp --max-memory 100G --ids ...</c> (/usr/bin/time
    /// -f %M, with MALLOC_MMAP_THRESHOLD_=65536 in the environment: glibc then returns freed blocks as
    /// <see cref="MallocTuning"/> makes it do where the bound is tight) minus the same run at 16 tokens, on the golden
    /// LLaMA (hidden 64, intermediate 160, 4 heads, 2 key/value heads) with L blocks (its two layers repeated),
    /// measured MiB / estimated MiB, after the masks were built in place: float32 L=2 T=2048 39.8 / 47.4, L=1
    /// T=4096 95.1 / 107.4, L=2 T=4096 112.1 / 118.75, L=4 T=4096 135.4 / 141.5, L=8 T=4096 180.4 / 187, L=16
    /// T=4096 259.8 / 278, L=2 T=6144 210.6 / 230.1, L=4 T=6144 247.4 / 264.25, L=2 T=8192 376.3 / 384 (building),
    /// L=16 T=8192 604.9 / 700; bfloat16 L=1 T=4096 59.0 / 75.4, L=2 T=4096 74.6 / 86.75. Every estimate is 2-28%
    /// above. Before, building the mask held (4 + 2e) T^2 (L=2 T=8192: 761 MiB measured), and on the benchmark's
    /// model (`--save-model`: 4 blocks, hidden 512, intermediate 1376, 8 heads) the pass measured T=1024 100,
    /// T=2048 205, T=3072 319, T=4096 442-454 MiB (this estimate: 116.9, 227.8, 348.6, 479.5). The old formula (the
    /// probabilities [heads, T, T] kept per block) gave 1.6 GiB for L=4 T=4096. The check below adds a 10% margin
    /// on top.</para></summary>
    public static long EstimatePeakBytes(PassShape shape, long tokens) => Estimate(shape, tokens).Peak;

    /// <summary>The estimate and the dense masks' share of it (their building or the ones kept, the larger).</summary>
    private static (long Peak, long Masks) Estimate(PassShape shape, long tokens)
    {
        ArgumentNullException.ThrowIfNull(shape);
        double t = tokens, l = shape.Layers, e = shape.HalfPrecision ? 2 : 4;
        double masks = Math.Max(0, shape.DenseMasks);
        double building = masks > 0 ? (masks * e + masks + 1) * t * t : 0;
        double kept = masks > 0 ? (masks * e + 1) * t * t : 0;
        double blocks = Math.Min(LrpGen.LrpOptions.DefaultAttentionBlockBytes, 16.0 * shape.Heads * t * t);
        double pass = kept + BytesPerTokenBlockUnit * l * t * (shape.Hidden + shape.Intermediate) + blocks;
        double peak = shape.WeightBytes + Math.Max(building, pass);
        return ((long)Math.Min(long.MaxValue / 2, peak), (long)Math.Min(long.MaxValue / 2, Math.Max(building, kept)));
    }

    /// <summary>How far the peak can exceed the estimate when glibc's heap keeps freed blocks (its default, dynamic
    /// mmap threshold): <c>lrpgen explain</c> on the benchmark's model at 4,000 tokens peaked at 1,196 MiB with it
    /// and 738 MiB with freed blocks returned (<see cref="MallocTuning"/>), on the golden LLaMA at 4,096 tokens 824-924
    /// against 359 MiB. Returning freed blocks costs page faults (there 20.7 against 31.8 s of CPU time), so
    /// <c>lrpgen</c> pays it only where the retained heap might not fit.</summary>
    public const double HeapRetention = 3.0;

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
    /// <returns>Whether the bound is tight: glibc's heap could keep more freed blocks than the bound leaves room
    /// for (<see cref="HeapRetention"/>), so the caller should have freed blocks returned to the system
    /// (<see cref="MallocTuning.ReturnLargeBlocks"/>).</returns>
    public static bool Check(PassShape shape, long tokens, long? maxMemory, string what)
    {
        var (bound, source) = maxMemory is long user ? (user, "--max-memory") : Available() ?? (long.MaxValue, "");
        var (need, masks) = Estimate(shape, tokens);
        if (need * Margin <= bound) return need * HeapRetention > bound;
        long fit = MaxTokens(shape, bound);
        throw new CliRuntimeException($"{what} of {tokens} tokens needs about {Format(need)} (weights {Format(shape.WeightBytes)}, "
            + $"relevance of {shape.Layers} blocks{(masks > 0 ? $" with a [{tokens}, {tokens}] attention mask needing {Format(masks)}" : "")}), more than the {Format(bound)} "
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
