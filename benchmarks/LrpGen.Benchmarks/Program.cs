using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TorchSharp;

namespace LrpGen.Benchmarks;

/// <summary>
/// dotnet run -c Release --project benchmarks/LrpGen.Benchmarks -- MODE [options]
///   (no mode) | --bench [BenchmarkDotNet args]   the BenchmarkDotNet run: 128 and 512 tokens, memory columns included
///   --quick                                      one run at 512 tokens; prints one JSON line of ratios (under 3 minutes)
///   --memory METHOD TOKENS LAYERS [--runs N] [--no-peak]  one method in this process: peak extra memory, times (JSON line)
///   --scaling [--small] [--out DIR]              time and memory vs tokens (128..2048) and vs layers (2..16)
///   --long [--lengths 1024,2048,...] [--budget-gib G] [--layers N] [--methods a,b] [--merge FILE,...] [--prior-gib G] [--out DIR]  long inputs: one JSON line per length
///   --save-model DIR [--layers N] [--prompt-tokens N]  the model as a Hugging Face folder (lrpgen explain DIR --ids ...)
///   --plots [--in DIR] [--images DIR]            PNG plots from the scaling (and long) results
///   --verify [--tokens N] [--layers N]           equal work: (2) and (4) give the same relevance
///   --profile [--tokens N] [--layers N]          forward / backward split and retained memory, per block
///   --seeds                                      16 seeds in one backward vs 16 passes / 16 backwards at 512 tokens (JSON line)
/// Global: --threads N (LibTorch intra-op threads; default 1, see docs/performance.md).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var list = args.ToList();
        // One LibTorch thread by default: on a shared machine, OpenMP's threads spin at every barrier while another
        // process holds a core, and two-thread times grow several-fold (docs/performance.md). --threads 2 on a quiet one.
        int threads = TakeInt(list, "--threads") ?? 1;
        torch.set_num_threads(threads);
        string mode = "bench";
        if (list.Count > 0 && list[0].StartsWith("--", StringComparison.Ordinal) && Modes.Contains(list[0][2..]))
        {
            mode = list[0][2..];
            list.RemoveAt(0);
        }
        if (mode != "memory" && Environment.GetEnvironmentVariable(MemoryProbe.ChildVariable) is not null)
        {
            Console.Error.WriteLine($"a memory probe process was asked for mode '{mode}': refusing (probes run --memory only).");
            return 2;
        }
        switch (mode)
        {
            case "bench":
                return BenchMode.Run(list.ToArray(), threads);
            case "quick":
                return Quick.Run(threads);
            case "seeds":
                return SeedsBenchmark.Run(threads);
            case "memory":
            {
                if (list.Count < 3) return Usage();
                var method = Enum.Parse<Method>(list[0], ignoreCase: true);
                var shape = new ModelShape { Tokens = int.Parse(list[1], CultureInfo.InvariantCulture), Layers = int.Parse(list[2], CultureInfo.InvariantCulture) };
                int runs = TakeInt(list, "--runs") ?? 0;
                var m = MemoryProbe.MeasureHere(method, shape, runs, peak: !list.Remove("--no-peak"));
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(m));
                return 0;
            }
            case "scaling":
            {
                bool small = list.Remove("--small");
                string outDir = TakeString(list, "--out") ?? Paths.Results;
                return Scaling.Run(outDir, small, threads);
            }
            case "long":
                return Long.Run(TakeString(list, "--lengths")?.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() ?? Long.DefaultLengths,
                    TakeInt(list, "--budget-gib") ?? 20, TakeInt(list, "--layers") ?? 4, TakeString(list, "--out") ?? Paths.Results, Paths.Images, threads,
                    TakeString(list, "--methods")?.Split(',', StringSplitOptions.RemoveEmptyEntries), TakeString(list, "--merge")?.Split(','),
                    TakeString(list, "--prior-gib") is { } prior ? double.Parse(prior, CultureInfo.InvariantCulture) : null);
            case "save-model":
            {
                int layers = TakeInt(list, "--layers") ?? 4, promptTokens = TakeInt(list, "--prompt-tokens") ?? 4000;
                return list.Count == 1 ? SaveModel.Run(list[0], layers, promptTokens) : Usage();
            }
            case "plots":
                return Plots.Run(TakeString(list, "--in") ?? Paths.Results, TakeString(list, "--images") ?? Paths.Images);
            case "verify":
            {
                var shape = new ModelShape { Tokens = TakeInt(list, "--tokens") ?? 128, Layers = TakeInt(list, "--layers") ?? 4 };
                using var work = new Workload(shape);
                Verification.Check(work, Console.Out);
                Console.WriteLine("verify: ok");
                return 0;
            }
            case "profile":
            {
                var shape = new ModelShape { Tokens = TakeInt(list, "--tokens") ?? 512, Layers = TakeInt(list, "--layers") ?? 4 };
                return Profile.Run(shape, threads);
            }
            default:
                return Usage();
        }
    }

    private static readonly HashSet<string> Modes = new() { "bench", "quick", "memory", "scaling", "long", "save-model", "plots", "verify", "profile", "seeds" };

    private static int Usage()
    {
        Console.Error.WriteLine("usage: see the comment at the top of benchmarks/LrpGen.Benchmarks/Program.cs or docs/performance.md");
        return 2;
    }

    private static int? TakeInt(List<string> args, string name) =>
        TakeString(args, name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : null;

    private static string? TakeString(List<string> args, string name)
    {
        int i = args.IndexOf(name);
        if (i < 0 || i + 1 >= args.Count) return null;
        var value = args[i + 1];
        args.RemoveRange(i, 2);
        return value;
    }
}

/// <summary>Where results and images go by default: next to the repository's benchmarks/ and docs/ folders.</summary>
public static class Paths
{
    public static string RepoRoot
    {
        get
        {
            var dir = new System.IO.DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "LrpGen.sln"))) dir = dir.Parent;
            return dir?.FullName ?? System.IO.Directory.GetCurrentDirectory();
        }
    }

    public static string Results => System.IO.Path.Combine(RepoRoot, "benchmarks", "results");
    public static string Images => System.IO.Path.Combine(RepoRoot, "docs", "images", "performance");
}
