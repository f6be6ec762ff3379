using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>--seeds: S = 16 explained logits of one 512-token input (each row's 16 highest next-token logits) by the
/// generated AttnLRP pass, three ways: one forward and one batched backward (seed weights [S, B, vocab]), S separate
/// passes (forward + backward each), and one forward with S separate backwards. CPU times round-robin as --quick; the
/// batched pass's peak memory against one single-seed pass (<see cref="Method.AttnLrp"/>), each in a probe process.</summary>
public static class SeedsBenchmark
{
    public const int Seeds = 16;

    /// <summary>The chunk size of the extra, chunked batched way (printed on stderr only).</summary>
    public const int Chunk = 4;

    private enum Way { Batched, BatchedInChunks, SeparatePasses, SeparateBackwards }

    public static int Run(int threads)
    {
        var total = Stopwatch.StartNew();
        var shape = new ModelShape { Tokens = 512 };
        Console.Error.WriteLine($"seeds: {Seeds} seeds, {shape}, float32, {threads} threads");
        Dictionary<Way, double> cpu, wall;
        using (var work = new Workload(shape))
        using (var weights = SeedWeights(work))
        {
            Verify(work, weights);
            Console.Error.WriteLine($"  load average before timing: {Timing.LoadAverage():0.0}");
            (wall, cpu) = RoundRobin(work, weights, runs: 3);
            Console.Error.WriteLine($"  load average after timing: {Timing.LoadAverage():0.0}");
        }
        foreach (var way in cpu.Keys) Console.Error.WriteLine($"  {way,-18} median CPU {cpu[way],9:0.0} ms, wall {wall[way],9:0.0} ms");
        Console.Error.WriteLine($"  BatchedInChunks: the same batched pass with LrpOptions.MaxSeedsPerBackward = {Chunk}: "
            + $"{cpu[Way.BatchedInChunks] / cpu[Way.SeparateBackwards]:0.000} of the separate backwards");
        double single = MemoryProbe.MeasureInChild(Method.AttnLrp, shape, timedRuns: 0, threads).PeakExtraMiB;
        double batched = MemoryProbe.MeasureInChild(Method.AttnLrpSeeds, shape, timedRuns: 0, threads).PeakExtraMiB;
        Console.Error.WriteLine($"  peak extra: one seed {single:0.0} MiB, {Seeds} seeds batched {batched:0.0} MiB");
        Console.Error.WriteLine($"seeds: {total.Elapsed.TotalSeconds:0} s");
        var result = new (string Key, double Value)[]
        {
            ("batched_over_separate_passes", cpu[Way.Batched] / cpu[Way.SeparatePasses]),
            ("batched_over_separate_backwards", cpu[Way.Batched] / cpu[Way.SeparateBackwards]),
            ("batched_peak_over_single_peak", batched / single),
        };
        Console.WriteLine($"{{\"seeds\": {Seeds}, " + string.Join(", ", result.Select(r =>
            $"\"{r.Key}\": {Math.Round(r.Value, 3).ToString("0.###", CultureInfo.InvariantCulture)}")) + "}");
        return 0;
    }

    /// <summary>Seed weights [S, B, vocab]: seed s is one at each row's s-th highest next-token logit.</summary>
    public static Tensor SeedWeights(Workload work)
    {
        using var scope = torch.NewDisposeScope();
        var logits = work.Forward();
        var top = logits.topk(Seeds, dim: 1, largest: true, sorted: true).indexes;   // [B, S]
        var weights = torch.zeros(new long[] { Seeds, logits.shape[0], logits.shape[1] }, logits.dtype);
        weights.scatter_(2, top.transpose(0, 1).unsqueeze(2), torch.ones(new long[] { Seeds, logits.shape[0], 1 }, logits.dtype));
        return weights.MoveToOuterDisposeScope();
    }

    /// <summary>The batched pass of the memory probe (<see cref="Method.AttnLrpSeeds"/>): relevance [S, B, T, hidden].</summary>
    public static Tensor Batched(Workload work)
    {
        using var weights = SeedWeights(work);
        return Batched(work, weights);
    }

    private static Tensor Batched(Workload work, Tensor weights, int? chunk = null)
    {
        using var pass = work.Model.LrpForward(work.Embeds, work.Cos, work.Sin, work.Mask, work.Rows,
            new LrpOptions { Method = LrpMethod.AttnLrp, MaxSeedsPerBackward = chunk });
        var relevance = pass.Backward(weights);
        for (int i = 1; i < relevance.Count; i++) relevance[i].Dispose();
        return relevance[0];
    }

    /// <summary>S passes, forward and backward each; with <paramref name="keep"/> the relevance of each, else none.</summary>
    private static List<Tensor>? SeparatePasses(Workload work, Tensor weights, bool keep)
    {
        var kept = keep ? new List<Tensor>() : null;
        for (int s = 0; s < Seeds; s++)
        {
            using var seed = weights[s];
            using var pass = work.Model.LrpForward(work.Embeds, work.Cos, work.Sin, work.Mask, work.Rows, new LrpOptions { Method = LrpMethod.AttnLrp });
            Collect(pass.Backward(seed), kept);
        }
        return kept;
    }

    /// <summary>One forward, then S backwards of one seed each.</summary>
    private static List<Tensor>? SeparateBackwards(Workload work, Tensor weights, bool keep)
    {
        var kept = keep ? new List<Tensor>() : null;
        using var pass = work.Model.LrpForward(work.Embeds, work.Cos, work.Sin, work.Mask, work.Rows, new LrpOptions { Method = LrpMethod.AttnLrp });
        for (int s = 0; s < Seeds; s++)
        {
            using var seed = weights[s];
            Collect(pass.Backward(seed), kept);
        }
        return kept;
    }

    private static void Collect(IReadOnlyList<Tensor> relevance, List<Tensor>? kept)
    {
        for (int i = 1; i < relevance.Count; i++) relevance[i].Dispose();
        if (kept is not null) kept.Add(relevance[0]);
        else relevance[0].Dispose();
    }

    /// <summary>Equal work: row s of the batched relevance is the separate backward of seed s, and the separate passes
    /// agree with both (float32 rounding: 1e-4 of the row's largest value).</summary>
    private static void Verify(Workload work, Tensor weights)
    {
        using var batched = Batched(work, weights);
        using var chunked = Batched(work, weights, Chunk);
        var passes = SeparatePasses(work, weights, keep: true)!;
        var backwards = SeparateBackwards(work, weights, keep: true)!;
        double worst = 0;
        for (int s = 0; s < Seeds; s++)
        {
            using var row = batched[s];
            double scale = row.abs().max().item<float>();
            using var chunkRow = chunked[s];
            foreach (var other in new[] { passes[s], backwards[s], chunkRow })
                using (var diff = (row - other).abs().max())
                    worst = Math.Max(worst, diff.item<float>() / scale);
        }
        foreach (var t in passes.Concat(backwards)) t.Dispose();
        Console.Error.WriteLine($"  verified: the batched rows equal the separate passes, the separate backwards and the chunked batch within {worst:E2} of each row's max |R|");
        if (!(worst <= 1e-4)) throw new InvalidOperationException($"the batched relevance differs from separate backwards by {worst:E2} of a row's max |R|.");
    }

    /// <summary>Wall and CPU time per way (ms), one warm-up each, then <paramref name="runs"/> rounds in turn: medians.</summary>
    private static (Dictionary<Way, double> Wall, Dictionary<Way, double> Cpu) RoundRobin(Workload work, Tensor weights, int runs)
    {
        var ways = new[] { Way.Batched, Way.BatchedInChunks, Way.SeparatePasses, Way.SeparateBackwards };
        void RunOnce(Way way)
        {
            switch (way)
            {
                case Way.Batched: Batched(work, weights).Dispose(); break;
                case Way.BatchedInChunks: Batched(work, weights, Chunk).Dispose(); break;
                case Way.SeparatePasses: SeparatePasses(work, weights, keep: false); break;
                default: SeparateBackwards(work, weights, keep: false); break;
            }
        }
        foreach (var way in ways) RunOnce(way);
        var wall = ways.ToDictionary(w => w, _ => new double[runs]);
        var cpu = ways.ToDictionary(w => w, _ => new double[runs]);
        for (int r = 0; r < runs; r++)
            foreach (var way in ways)
            {
                GC.Collect();
                double cpu0 = CpuClock.NowMs();
                var clock = Stopwatch.StartNew();
                RunOnce(way);
                wall[way][r] = clock.Elapsed.TotalMilliseconds;
                cpu[way][r] = CpuClock.NowMs() - cpu0;
            }
        return (wall.ToDictionary(kv => kv.Key, kv => MemoryProbe.Median(kv.Value)), cpu.ToDictionary(kv => kv.Key, kv => MemoryProbe.Median(kv.Value)));
    }
}
