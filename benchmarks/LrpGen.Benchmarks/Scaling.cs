using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LrpGen.Benchmarks;

/// <summary>One row of the scaling results: a method at one (tokens, layers) point.</summary>
public sealed record ScalingRow
{
    [JsonPropertyName("sweep")] public string Sweep { get; init; } = "";
    [JsonPropertyName("tokens")] public int Tokens { get; init; }
    [JsonPropertyName("layers")] public int Layers { get; init; }
    [JsonPropertyName("method")] public string Method { get; init; } = "";
    [JsonPropertyName("median_ms")] public double MedianMs { get; init; }
    [JsonPropertyName("times_ms")] public double[] TimesMs { get; init; } = Array.Empty<double>();
    [JsonPropertyName("peak_extra_mib")] public double PeakExtraMiB { get; init; }
    /// <summary>Median CPU time of this process per run (user + system, all threads), in ms.</summary>
    [JsonPropertyName("median_cpu_ms")] public double MedianCpuMs { get; init; }
    /// <summary>1-minute load average before and after the timing of this point (the machine is shared).</summary>
    [JsonPropertyName("load")] public double[] Load { get; init; } = Array.Empty<double>();
}

public sealed record ScalingResults
{
    [JsonPropertyName("shape")] public string Shape { get; init; } = "";
    [JsonPropertyName("threads")] public int Threads { get; init; }
    [JsonPropertyName("date")] public string Date { get; init; } = "";
    [JsonPropertyName("machine")] public string Machine { get; init; } = "";
    [JsonPropertyName("rows")] public List<ScalingRow> Rows { get; init; } = new();
}

/// <summary>--scaling: time (in this process, round-robin medians) and peak extra memory (one process per method and
/// point) against the sequence length at 4 layers and against the number of layers at 512 tokens.</summary>
public static class Scaling
{
    public static readonly int[] TokenSweep = { 128, 256, 512, 1024, 2048 };
    public static readonly int[] LayerSweep = { 2, 4, 8, 16 };

    public static int Run(string outDir, bool small, int threads)
    {
        var total = Stopwatch.StartNew();
        var tokens = small ? new[] { 128, 256 } : TokenSweep;
        var layers = small ? new[] { 2, 4 } : LayerSweep;
        var points = tokens.Select(t => ("tokens", t, 4)).Concat(layers.Select(l => ("layers", small ? 128 : 512, l))).ToList();
        var results = new ScalingResults
        {
            Shape = new ModelShape().ToString().Split(", 1 x")[0],
            Threads = threads,
            Date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Machine = MachineDescription(),
        };
        var measured = new Dictionary<(int, int), List<ScalingRow>>();
        foreach (var (sweep, t, l) in points)
        {
            if (measured.TryGetValue((t, l), out var done))
            {
                results.Rows.AddRange(done.Select(r => r with { Sweep = sweep }));
                continue;
            }
            var shape = new ModelShape { Tokens = t, Layers = l };
            int runs = t * l >= 2048 * 4 ? 2 : 3;
            Console.WriteLine($"[{total.Elapsed:mm\\:ss}] {shape}: timing ({runs} runs after a warm-up), then memory");
            Dictionary<Method, double[]> times, cpu;
            double load0 = Timing.LoadAverage();
            using (var work = new Workload(shape))
                (times, cpu) = Timing.RoundRobinWithCpu(work, Workload.AllMethods, runs);
            double load1 = Timing.LoadAverage();
            var rows = new List<ScalingRow>();
            foreach (var m in Workload.AllMethods)
            {
                var mem = MemoryProbe.MeasureInChild(m, shape, timedRuns: 0, threads);
                var row = new ScalingRow
                {
                    Sweep = sweep,
                    Tokens = t,
                    Layers = l,
                    Method = m.ToString(),
                    MedianMs = Math.Round(MemoryProbe.Median(times[m]), 1),
                    TimesMs = times[m].Select(x => Math.Round(x, 1)).ToArray(),
                    PeakExtraMiB = mem.PeakExtraMiB,
                    MedianCpuMs = Math.Round(MemoryProbe.Median(cpu[m]), 1),
                    Load = new[] { load0, load1 },
                };
                rows.Add(row);
                Console.WriteLine($"    {m,-20} {row.MedianMs,9:0.0} ms (cpu {row.MedianCpuMs,9:0.0} ms)  +{row.PeakExtraMiB,8:0.0} MiB   load {load0:0.0} -> {load1:0.0}");
            }
            measured[(t, l)] = rows;
            results.Rows.AddRange(rows);
        }
        Directory.CreateDirectory(outDir);
        var json = Path.Combine(outDir, "scaling.json");
        File.WriteAllText(json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
        var md = Path.Combine(outDir, "scaling.md");
        File.WriteAllText(md, Markdown(results));
        Console.WriteLine(Markdown(results));
        Console.WriteLine($"wrote {json} and {md} in {total.Elapsed.TotalMinutes:0.0} min");
        return 0;
    }

    public static string MachineDescription()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException) { }
        return $"{cpu}, {Environment.ProcessorCount} cores, TorchSharp-cpu 0.107.0 (LibTorch 2.10), .NET {Environment.Version}";
    }

    private static readonly (Method Method, string Label)[] Columns =
    {
        (Method.Forward, "(1) forward"),
        (Method.AttnLrp, "(2) generated AttnLRP"),
        (Method.AutogradGradX, "(3) autograd x*grad"),
        (Method.AutogradRules, "(4) autograd + rules"),
        (Method.AttnLrpCheckpointed, "(2) checkpointed (LrpOptions.Checkpointing)"),
    };

    /// <summary>Two tables per sweep: median CPU time (ms) with (2)/(1) and (2)/(4), and peak extra MiB with (2)/(3).</summary>
    public static string Markdown(ScalingResults results)
    {
        var sb = new StringBuilder();
        foreach (var (sweep, key) in new[] { ("tokens", "tokens"), ("layers", "layers") })
        {
            var rows = results.Rows.Where(r => r.Sweep == sweep).ToList();
            if (rows.Count == 0) continue;
            var xs = rows.Select(r => sweep == "tokens" ? r.Tokens : r.Layers).Distinct().OrderBy(x => x).ToList();
            string fixedPart = sweep == "tokens" ? $"{rows[0].Layers} layers" : $"{rows[0].Tokens} tokens";
            double Get(int x, Method m, Func<ScalingRow, double> f) =>
                rows.Where(r => (sweep == "tokens" ? r.Tokens : r.Layers) == x && r.Method == m.ToString()).Select(f).DefaultIfEmpty(double.NaN).First();

            sb.AppendLine(CultureInfo.InvariantCulture, $"Median CPU time (ms, one LibTorch thread) vs {key} ({fixedPart}):").AppendLine();
            sb.AppendLine("| " + key + " | " + string.Join(" | ", Columns.Select(c => c.Label)) + " | (2)/(1) | (2)/(4) | ckpt/(1) |");
            sb.AppendLine("|" + string.Concat(Enumerable.Repeat(" ---: |", Columns.Length + 4)));
            foreach (var x in xs)
            {
                var t = Columns.Select(c => Get(x, c.Method, r => r.MedianCpuMs)).ToArray();
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {x} | {string.Join(" | ", t.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))} | {t[1] / t[0]:0.00} | {t[1] / t[3]:0.00} | {t[4] / t[0]:0.00} |");
            }
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"Peak extra memory (MiB) vs {key} ({fixedPart}):").AppendLine();
            sb.AppendLine("| " + key + " | " + string.Join(" | ", Columns.Select(c => c.Label)) + " | (2)/(3) | (2)/(4) | ckpt/(3) |");
            sb.AppendLine("|" + string.Concat(Enumerable.Repeat(" ---: |", Columns.Length + 4)));
            foreach (var x in xs)
            {
                var m = Columns.Select(c => Get(x, c.Method, r => r.PeakExtraMiB)).ToArray();
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"| {x} | {string.Join(" | ", m.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))} | {m[1] / m[2]:0.00} | {m[1] / m[3]:0.00} | {m[4] / m[2]:0.00} |");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
