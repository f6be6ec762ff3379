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

    /// <param name="priorGiB">The peak to expect per process before a length was measured (default: the quadratic
    /// bound of <see cref="Prior"/>), which decides how many processes run at once.</param>
    /// <param name="only">The JSON keys of the methods to run (null: all).</param>
    /// <param name="mergeFiles">Results files of earlier --long runs whose figures fill in the methods not run here,
    /// per length, the first file that has them (the forward and autograd methods are benchmark code that a generator
    /// change leaves as it is); the JSON line then names the file under "measured_in". With no methods to run, the
    /// files' figures alone are combined.</param>
    public static int Run(IReadOnlyList<int> lengths, double budgetGiB, int layers, string outDir, string imagesDir, int threads,
        IReadOnlyCollection<string>? only = null, IReadOnlyList<string>? mergeFiles = null, double? priorGiB = null)
    {
        var unknown = only?.Where(k => Methods.All(x => x.Key != k)).ToList();
        if (unknown is { Count: > 0 })
            throw new ArgumentException($"--methods: unknown method '{unknown[0]}'; the methods are {string.Join(", ", Methods.Select(x => x.Key))}.");
        var merged = (mergeFiles ?? Array.Empty<string>()).SelectMany(file => File.ReadAllLines(file)
            .Select(l => (File: Path.GetFileName(file), Line: JsonNode.Parse(l)!.AsObject())).Where(x => x.Line.ContainsKey("tokens"))).ToList();
        var total = Stopwatch.StartNew();
        var log = Console.Error;
        log.WriteLine($"long: {new ModelShape { Layers = layers }.ToString().Split(", 1 x")[0]}, float32, {threads} thread(s), " +
                      $"lengths {string.Join(", ", lengths)}, memory budget {budgetGiB} GiB per method");
        if (only is not { Count: 0 })
            using (var check = new Workload(new ModelShape { Tokens = 256, Layers = layers }))
                Verification.Check(check, log);

        var peaks = Methods.ToDictionary(x => x.Method, _ => new SortedDictionary<int, double>());
        var lines = new List<JsonObject>();
        foreach (int tokens in lengths)
        {
            var shape = new ModelShape { Tokens = tokens, Layers = layers };
            var skipped = new Dictionary<Method, string>();
            var jobs = new List<Job>();
            foreach (var (m, key) in Methods.Where(x => only is null || only.Contains(x.Key)))
            {
                if (SkipReason(peaks[m], tokens, budgetGiB) is { } reason)
                {
                    skipped[m] = reason;
                    log.WriteLine($"[{total.Elapsed:mm\\:ss}] {tokens} tokens: {key} skipped: {reason}");
                    continue;
                }
                double estimate = Estimate(peaks[m], tokens) ?? priorGiB ?? Prior(shape);
                jobs.Add(new Job(m, key, Peak: true, estimate));
                jobs.Add(new Job(m, key, Peak: false, estimate));
            }
            double load0 = Timing.LoadAverage();
            var results = RunJobs(jobs, shape, threads, log, total);
            log.WriteLine($"  load average {load0:0.0} -> {Timing.LoadAverage():0.0}");
            var peak = results.Where(r => r.Key.Peak).ToDictionary(r => r.Key.Method, r => r.Value.PeakExtraMiB);
            var cpu = results.Where(r => !r.Key.Peak).ToDictionary(r => r.Key.Method, r => r.Value.CpuMs[0]);
            foreach (var (m, p) in peak) peaks[m][tokens] = p;
            var from = new JsonObject();
            foreach (var (m, key) in Methods.Where(x => only is not null && !only.Contains(x.Key)))
                foreach (var (file, earlier) in merged.Where(x => (int)x.Line["tokens"]! == tokens))
                    if (earlier["peak_mib"]?[key] is { } p && earlier["cpu_ms"]?[key] is { } c)
                    {
                        peak[m] = p.GetValue<double>();
                        cpu[m] = c.GetValue<double>();
                        peaks[m][tokens] = peak[m];
                        from[key] = earlier["measured_in"]?[key]?.GetValue<string>() ?? file;
                        break;
                    }
                    else if (earlier["skipped"]?[key] is { } why)
                    {
                        skipped[m] = why.GetValue<string>();
                        break;
                    }
            var line = new JsonObject
            {
                ["tokens"] = tokens,
                ["peak_mib"] = Values(peak, 1),
                ["cpu_ms"] = Values(cpu, 0),
            };
            if (from.Count > 0) line["measured_in"] = from;
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
        var resultsFile = Path.Combine(outDir, ResultsFile);
        File.WriteAllLines(resultsFile, lines.Select(l => l.ToJsonString()));
        log.WriteLine($"long: {total.Elapsed.TotalMinutes:0.0} min; wrote {resultsFile}");
        LongPlot.Write(resultsFile, imagesDir, log);
        return 0;
    }

    /// <summary>One process: a method's peak (a memory probe) or its CPU time (a timing-only process).</summary>
    private sealed record Job(Method Method, string Key, bool Peak, double EstimateGiB);

    /// <summary>Runs the processes of one length at once, as many as the memory available allows (each estimate plus
    /// 0.5 GiB for the runtime, the model and the inputs): each measures itself (its own peak, its own CPU time), so
    /// running them side by side changes neither figure but cuts the wall time on a machine that others load.</summary>
    private static Dictionary<Job, Measurement> RunJobs(List<Job> jobs, ModelShape shape, int threads, TextWriter log, Stopwatch total)
    {
        var results = new Dictionary<Job, Measurement>();
        var running = new Dictionary<System.Threading.Tasks.Task<Measurement>, Job>();
        var queue = new Queue<Job>(jobs.OrderByDescending(j => j.EstimateGiB));
        double limit = Math.Max(2, AvailableGiB() - 2);
        double InUse() => running.Values.Sum(j => j.EstimateGiB + 0.5);
        while (queue.Count > 0 || running.Count > 0)
        {
            while (queue.Count > 0 && (running.Count == 0 || InUse() + queue.Peek().EstimateGiB + 0.5 <= limit))
            {
                var job = queue.Dequeue();
                running[MemoryProbe.MeasureInChildAsync(job.Method, shape, job.Peak ? 0 : 1, threads, job.Peak)] = job;
            }
            var done = System.Threading.Tasks.Task.WhenAny(running.Keys).GetAwaiter().GetResult();
            var finished = running[done];
            running.Remove(done);
            var m = done.GetAwaiter().GetResult();
            results[finished] = m;
            log.WriteLine(finished.Peak
                ? $"[{total.Elapsed:mm\\:ss}] {shape.Tokens} tokens: {finished.Key} peak extra {m.PeakExtraMiB:0.0} MiB"
                : $"[{total.Elapsed:mm\\:ss}] {shape.Tokens} tokens: {finished.Key} CPU {m.CpuMs[0]:0} ms (wall {m.TimesMs[0]:0} ms)");
        }
        return results;
    }

    /// <summary>Why a method is not run at this length, or null: its peak at this length, extrapolated from the two
    /// longest lengths measured before (the growth seen then, times 1.1, between linear and quadratic in the
    /// length), would exceed the budget or what the machine has available now (less 1 GiB for the others).</summary>
    public static string? SkipReason(SortedDictionary<int, double> measured, int tokens, double budgetGiB)
    {
        if (Estimate(measured, tokens) is not { } estimateGiB) return null;
        var (t1, p1) = measured.Last(kv => kv.Key < tokens);
        if (estimateGiB > budgetGiB)
            return $"estimated peak {estimateGiB:0.0} GiB (from {p1:0} MiB at {t1} tokens) exceeds the {budgetGiB:0} GiB budget";
        double availableGiB = AvailableGiB() - 1;
        if (estimateGiB > availableGiB)
            return $"estimated peak {estimateGiB:0.0} GiB exceeds what this machine has available now ({availableGiB:0.0} GiB)";
        return null;
    }

    /// <summary>The peak at <paramref name="tokens"/> in GiB, extrapolated from the longest lengths measured before;
    /// null when none was.</summary>
    public static double? Estimate(SortedDictionary<int, double> measured, int tokens)
    {
        var before = measured.Where(kv => kv.Key < tokens).ToList();
        if (before.Count == 0) return null;
        var (t1, p1) = (before[^1].Key, before[^1].Value);
        double exponent = 2;
        if (before.Count >= 2)
        {
            var (t0, p0) = (before[^2].Key, before[^2].Value);
            exponent = Math.Clamp(Math.Log(p1 / p0) / Math.Log((double)t1 / t0) * 1.1, 1, 2);
        }
        return Math.Max(p1, 1) * Math.Pow((double)tokens / t1, exponent) / 1024;
    }

    /// <summary>Before any length was measured: the peak of a pass that keeps every layer's [heads, T, T]
    /// probabilities plus two more in the backward, and about ten float32 values per token, layer and unit of
    /// (hidden + intermediate) (the estimate of <c>lrpgen explain</c>'s memory check), in GiB. It bounds every method.</summary>
    private static double Prior(ModelShape s) =>
        (4.0 * (s.Layers + 2) * s.Heads * s.Tokens * (double)s.Tokens + 40.0 * s.Layers * s.Tokens * (s.Hidden + s.Intermediate)) / (1L << 30);

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
