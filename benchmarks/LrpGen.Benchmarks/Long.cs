using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LrpGen.Benchmarks;

/// <summary>--long: the five methods at long inputs (default 1,024, 2,048, 4,096 and 8,192 tokens, 4 layers), one JSON
/// line per length and a <c>long_summary</c> line (issue 12). Built to be quick on a loaded machine: equal work is
/// checked once at 256 tokens, kernels are warmed up once on 16 tokens, and each method runs twice per length: once
/// timed (CPU time, in this process, default allocator) and once in a memory probe process (peak extra resident set,
/// <see cref="MemoryProbe"/>). A method whose estimated peak would not fit the memory budget is skipped and named.</summary>
public static class Long
{
    public static readonly int[] DefaultLengths = { 1024, 2048, 4096, 8192 };

    /// <summary>The methods in the issue's key order, with their JSON keys.</summary>
    public static readonly (Method Method, string Key)[] Methods =
    {
        (Method.Forward, "forward"),
        (Method.AttnLrp, "attnlrp"),
        (Method.AttnLrpCheckpointed, "attnlrp_checkpointed"),
        (Method.AutogradGradX, "autograd_gradx"),
        (Method.AutogradRules, "autograd_rules"),
    };

    public const string ResultsFile = "long.jsonl";

    public static int Run(IReadOnlyList<int> lengths, double budgetGiB, int layers, string outDir, string imagesDir, int threads)
    {
        var total = Stopwatch.StartNew();
        var log = Console.Error;
        log.WriteLine($"long: {new ModelShape { Layers = layers }.ToString().Split(", 1 x")[0]}, float32, {threads} thread(s), " +
                      $"lengths {string.Join(", ", lengths)}, memory budget {budgetGiB} GiB per method");
        using (var check = new Workload(new ModelShape { Tokens = 256, Layers = layers }))
            Verification.Check(check, log);
        using (var warm = new Workload(new ModelShape { Tokens = 16, Layers = layers }))
            foreach (var (m, _) in Methods) warm.RunAndDrop(m);

        var peaks = Methods.ToDictionary(x => x.Method, _ => new SortedDictionary<int, double>());
        var lines = new List<JsonObject>();
        foreach (int tokens in lengths)
        {
            var shape = new ModelShape { Tokens = tokens, Layers = layers };
            var peak = new Dictionary<Method, double>();
            var skipped = new Dictionary<Method, string>();
            foreach (var (m, key) in Methods)
            {
                if (SkipReason(peaks[m], tokens, budgetGiB) is { } reason)
                {
                    skipped[m] = reason;
                    log.WriteLine($"[{total.Elapsed:mm\\:ss}] {tokens} tokens: {key} skipped: {reason}");
                    continue;
                }
                peak[m] = MemoryProbe.MeasureInChild(m, shape, timedRuns: 0, threads).PeakExtraMiB;
                peaks[m][tokens] = peak[m];
                log.WriteLine($"[{total.Elapsed:mm\\:ss}] {tokens} tokens: {key} peak extra {peak[m]:0.0} MiB");
            }
            var cpu = new Dictionary<Method, double>();
            double load0 = Timing.LoadAverage();
            using (var work = new Workload(shape))
                foreach (var (m, key) in Methods.Where(x => !skipped.ContainsKey(x.Method)))
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    var cpu0 = CpuClock.NowMs();
                    var sw = Stopwatch.StartNew();
                    work.RunAndDrop(m);
                    cpu[m] = CpuClock.NowMs() - cpu0;
                    log.WriteLine($"[{total.Elapsed:mm\\:ss}] {tokens} tokens: {key} CPU {cpu[m]:0} ms (wall {sw.Elapsed.TotalMilliseconds:0} ms)");
                }
            log.WriteLine($"  load average {load0:0.0} -> {Timing.LoadAverage():0.0}");
            var line = new JsonObject
            {
                ["tokens"] = tokens,
                ["peak_mib"] = Values(peak, 1),
                ["cpu_ms"] = Values(cpu, 0),
            };
            if (skipped.Count > 0)
                line["skipped"] = new JsonObject(Methods.Where(x => skipped.ContainsKey(x.Method))
                    .Select(x => KeyValuePair.Create(x.Key, (JsonNode?)JsonValue.Create(skipped[x.Method]))));
            Console.WriteLine(line.ToJsonString());
            lines.Add(line);
        }
        var summary = Summary(lines);
        Console.WriteLine(summary.ToJsonString());
        lines.Add(summary);

        Directory.CreateDirectory(outDir);
        var results = Path.Combine(outDir, ResultsFile);
        File.WriteAllLines(results, lines.Select(l => l.ToJsonString()));
        log.WriteLine($"long: {total.Elapsed.TotalMinutes:0.0} min; wrote {results}");
        LongPlot.Write(results, imagesDir, log);
        return 0;
    }

    /// <summary>Why a method is not run at this length, or null: its peak at this length, extrapolated from the two
    /// longest lengths measured before (the growth seen then, times 1.1, between linear and quadratic in the
    /// length), would exceed the budget or what the machine has available now (less 1 GiB for the others).</summary>
    public static string? SkipReason(SortedDictionary<int, double> measured, int tokens, double budgetGiB)
    {
        var before = measured.Where(kv => kv.Key < tokens).ToList();
        if (before.Count == 0) return null;
        var (t1, p1) = (before[^1].Key, before[^1].Value);
        double lengthRatio = (double)tokens / t1;
        double exponent = 2;
        if (before.Count >= 2)
        {
            var (t0, p0) = (before[^2].Key, before[^2].Value);
            exponent = Math.Clamp(Math.Log(p1 / p0) / Math.Log((double)t1 / t0) * 1.1, 1, 2);
        }
        double estimateGiB = p1 * Math.Pow(lengthRatio, exponent) / 1024;
        if (estimateGiB > budgetGiB)
            return $"estimated peak {estimateGiB:0.0} GiB (from {p1:0} MiB at {t1} tokens) exceeds the {budgetGiB:0} GiB budget";
        double availableGiB = AvailableGiB() - 1;
        if (estimateGiB > availableGiB)
            return $"estimated peak {estimateGiB:0.0} GiB exceeds what this machine has available now ({availableGiB:0.0} GiB)";
        return null;
    }

    private static double AvailableGiB()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1048576.0;
        return double.PositiveInfinity;
    }

    private static JsonObject Values(Dictionary<Method, double> values, int digits) =>
        new(Methods.Select(x => KeyValuePair.Create(x.Key,
            values.TryGetValue(x.Method, out var v) ? (JsonNode?)JsonValue.Create(Math.Round(v, digits)) : null)));

    /// <summary>The issue's acceptance ratios at 4,096 tokens (null where a method was skipped or the length not run).</summary>
    private static JsonObject Summary(List<JsonObject> lines)
    {
        double? Get(int tokens, string quantity, string key) =>
            lines.FirstOrDefault(l => (int)l["tokens"]! == tokens)?[quantity]?[key]?.GetValue<double>();
        double? Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? Math.Round(x / y, 3) : null;
        const int T = 4096;
        return new JsonObject
        {
            ["long_summary"] = new JsonObject
            {
                ["tokens"] = T,
                ["attnlrp_peak_over_autograd_gradx"] = Ratio(Get(T, "peak_mib", "attnlrp"), Get(T, "peak_mib", "autograd_gradx")),
                ["checkpointed_peak_over_autograd_gradx"] = Ratio(Get(T, "peak_mib", "attnlrp_checkpointed"), Get(T, "peak_mib", "autograd_gradx")),
                ["attnlrp_time_over_autograd_rules"] = Ratio(Get(T, "cpu_ms", "attnlrp"), Get(T, "cpu_ms", "autograd_rules")),
                ["checkpointed_time_over_forward"] = Ratio(Get(T, "cpu_ms", "attnlrp_checkpointed"), Get(T, "cpu_ms", "forward")),
                ["peak_growth_4096_over_2048"] = Ratio(Get(T, "peak_mib", "attnlrp"), Get(2048, "peak_mib", "attnlrp")),
            },
        };
    }
}
