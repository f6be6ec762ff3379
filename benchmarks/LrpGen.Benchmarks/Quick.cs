using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;

namespace LrpGen.Benchmarks;

/// <summary>--quick: one run at 512 tokens, one JSON line of ratios.</summary>
public static class Quick
{
    public static int Run(int threads)
    {
        var total = Stopwatch.StartNew();
        var shape = new ModelShape { Tokens = 512 };
        Console.Error.WriteLine($"quick: {shape}, float32, {threads} threads");
        var methods = new[] { Method.Forward, Method.AttnLrp, Method.AutogradRules, Method.AttnLrpCheckpointed };
        // The memory probes measure their own processes: they run while this one times.
        var probes = new[] { Method.AutogradGradX, Method.AttnLrp, Method.AttnLrpCheckpointed }
            .ToDictionary(m => m, m => MemoryProbe.MeasureInChildAsync(m, shape, timedRuns: 0, threads, peak: true));
        Dictionary<Method, double> median, medianWall;
        using (var work = new Workload(shape))
        {
            Verification.Check(work, Console.Error);
            Console.Error.WriteLine($"  load average before timing: {Timing.LoadAverage():0.0}");
            var (wall, cpu) = Timing.RoundRobinWithCpu(work, methods, runs: 3);
            Console.Error.WriteLine($"  load average after timing: {Timing.LoadAverage():0.0}");
            median = cpu.ToDictionary(kv => kv.Key, kv => MemoryProbe.Median(kv.Value));
            medianWall = wall.ToDictionary(kv => kv.Key, kv => MemoryProbe.Median(kv.Value));
        }
        foreach (var m in methods) Console.Error.WriteLine($"  {m,-20} median CPU {median[m],9:0.0} ms, wall {medianWall[m],9:0.0} ms");
        Console.Error.WriteLine("  (time ratios use the CPU times: one LibTorch thread, so CPU time is the wall time an idle machine would show)");
        var memory = new Dictionary<Method, double>();
        foreach (var m in new[] { Method.AutogradGradX, Method.AttnLrp, Method.AttnLrpCheckpointed })
        {
            memory[m] = probes[m].GetAwaiter().GetResult().PeakExtraMiB;
            Console.Error.WriteLine($"  {m,-20} peak extra {memory[m],8:0.0} MiB");
        }
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal)
        {
            ["relevance_over_forward"] = Round(median[Method.AttnLrp] / median[Method.Forward]),
            ["relevance_over_autograd_rules"] = Round(median[Method.AttnLrp] / median[Method.AutogradRules]),
            ["peak_memory_over_autograd_gradx"] = Round(memory[Method.AttnLrp] / memory[Method.AutogradGradX]),
            ["checkpointed_peak_memory_over_autograd_gradx"] = Round(memory[Method.AttnLrpCheckpointed] / memory[Method.AutogradGradX]),
            ["checkpointed_over_forward"] = Round(median[Method.AttnLrpCheckpointed] / median[Method.Forward]),
        };
        Console.Error.WriteLine($"quick: {total.Elapsed.TotalSeconds:0} s. checkpointed_* measure the generated memory-saving mode (LrpOptions.Checkpointing).");
        // The issue's key order.
        var ordered = new[]
        {
            "relevance_over_forward", "relevance_over_autograd_rules", "peak_memory_over_autograd_gradx",
            "checkpointed_peak_memory_over_autograd_gradx", "checkpointed_over_forward",
        };
        Console.WriteLine("{" + string.Join(", ", ordered.Select(k =>
            JsonSerializer.Serialize(k) + ": " + result[k].ToString("0.###", CultureInfo.InvariantCulture))) + "}");
        return 0;
    }

    private static double Round(double x) => Math.Round(x, 3);
}
