using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace LrpGen.Benchmarks;

/// <summary>The four methods (and the generated memory-saving mode) on the issue's CPU shape, 128 and 512 tokens, float32,
/// in one BenchmarkDotNet run. Ratio: against (1) the forward (BenchmarkDotNet's baseline); "vs Rules": against
/// (4) autograd with the rules injected; the memory columns come from one process per method (see MemoryProbe).</summary>
[Config(typeof(BenchConfig))]
public class RelevanceBenchmarks
{
    [Params(128, 512)]
    public int Tokens { get; set; }

    private Workload? _work;

    [GlobalSetup]
    public void Setup()
    {
        _work = new Workload(new ModelShape { Tokens = Tokens });
        // Equal work: the generated pass and autograd with the rules give the same relevance.
        Verification.Check(_work, Console.Out);
    }

    [GlobalCleanup]
    public void Cleanup() => _work?.Dispose();

    [Benchmark(Baseline = true)]
    public void Forward() => Timed(Method.Forward);

    [Benchmark]
    public void AttnLrp() => Timed(Method.AttnLrp);

    [Benchmark]
    public void AutogradGradX() => Timed(Method.AutogradGradX);

    [Benchmark]
    public void AutogradRules() => Timed(Method.AutogradRules);

    [Benchmark]
    public void AttnLrpCheckpointed() => Timed(Method.AttnLrpCheckpointed);

    private void Timed(Method method)
    {
        double c0 = CpuClock.NowMs();
        _work!.RunAndDrop(method);
        CpuMs.GetOrAdd((method, Tokens), _ => new ConcurrentBag<double>()).Add(CpuClock.NowMs() - c0);
    }

    /// <summary>CPU time of every invocation (warm-up and measured), per (method, tokens).</summary>
    public static ConcurrentDictionary<(Method, int), ConcurrentBag<double>> CpuMs { get; } = new();

    /// <summary>Peak extra memory per (method, tokens), filled before the run by <see cref="MemoryProbe"/>.</summary>
    public static ConcurrentDictionary<(Method, int), double> PeakExtraMiB { get; } = new();

    public static int Layers => new ModelShape().Layers;
}

public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance) // one process: TorchSharp's native library is the build output's
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(8)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithId("cpu-float32"));
        AddColumn(new RatioToColumn(nameof(RelevanceBenchmarks.AutogradRules), "vs Rules"));
        AddColumn(new CpuColumn(null), new CpuColumn(Method.Forward), new CpuColumn(Method.AutogradRules));
        AddColumn(new MemoryColumn(false), new MemoryColumn(true));
        AddExporter(MarkdownExporter.GitHub);
        ArtifactsPath = System.IO.Path.Combine(Paths.RepoRoot, "benchmarks", "BenchmarkDotNet.Artifacts");
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        WithOption(ConfigOptions.DisableLogFile, false);
        SummaryStyle = SummaryStyle.Default.WithRatioStyle(RatioStyle.Value);
    }
}

/// <summary>Mean time over that of another benchmark of the same parameters.</summary>
public sealed class RatioToColumn : IColumn
{
    private readonly string _method;

    public RatioToColumn(string method, string name)
    {
        _method = method;
        ColumnName = name;
    }

    public string Id => "RatioTo" + _method;
    public string ColumnName { get; }
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => $"Mean time over the mean time of {_method} with the same parameters";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mine = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var other = summary.Reports.FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.WorkloadMethod.Name == _method &&
            r.BenchmarkCase.Parameters.DisplayInfo == benchmarkCase.Parameters.DisplayInfo)?.ResultStatistics?.Mean;
        if (mine is null || other is null || other == 0) return "?";
        return (mine.Value / other.Value).ToString("0.00", CultureInfo.InvariantCulture);
    }
}

/// <summary>Median CPU time of the process per invocation (one LibTorch thread: the wall time of an idle machine),
/// or its ratio to that of another method with the same parameters.</summary>
public sealed class CpuColumn : IColumn
{
    private readonly Method? _to;

    public CpuColumn(Method? to) => _to = to;

    public string Id => "Cpu" + (_to?.ToString() ?? "");
    public string ColumnName => _to switch
    {
        null => "CPU ms",
        Method.Forward => "CPU vs Fwd",
        _ => "CPU vs Rules",
    };
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => _to is null ? -3 : _to == Method.Forward ? -2 : -1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => _to is null
        ? "Median CPU time of the process per invocation, ms (clock_gettime CLOCK_PROCESS_CPUTIME_ID)"
        : $"Median CPU time over that of {_to} with the same parameters";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (!Enum.TryParse<Method>(benchmarkCase.Descriptor.WorkloadMethod.Name, out var method)) return "?";
        var tokens = (int)benchmarkCase.Parameters["Tokens"];
        double Median(Method m) => RelevanceBenchmarks.CpuMs.TryGetValue((m, tokens), out var bag) ? MemoryProbe.Median(bag.ToArray()) : double.NaN;
        double mine = Median(method);
        if (_to is null) return mine.ToString("0.0", CultureInfo.InvariantCulture);
        return (mine / Median(_to.Value)).ToString("0.00", CultureInfo.InvariantCulture);
    }
}

/// <summary>Peak extra native memory (MiB) of the method in a process of its own, or its ratio to plain autograd
/// input x gradient (method 3).</summary>
public sealed class MemoryColumn : IColumn
{
    private readonly bool _ratio;

    public MemoryColumn(bool ratio) => _ratio = ratio;

    public string Id => _ratio ? "PeakRatioGradX" : "PeakExtraMiB";
    public string ColumnName => _ratio ? "Peak vs GradX" : "Peak extra MiB";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => _ratio ? 2 : 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => _ratio
        ? "Peak extra memory over that of AutogradGradX (plain autograd input x gradient)"
        : "Peak resident set (VmHWM) minus the resident set before the run, one process per method";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (!Enum.TryParse<Method>(benchmarkCase.Descriptor.WorkloadMethod.Name, out var method)) return "?";
        var tokens = (int)benchmarkCase.Parameters["Tokens"];
        if (!RelevanceBenchmarks.PeakExtraMiB.TryGetValue((method, tokens), out var mib)) return "-";
        if (!_ratio) return mib.ToString("0.0", CultureInfo.InvariantCulture);
        if (!RelevanceBenchmarks.PeakExtraMiB.TryGetValue((Method.AutogradGradX, tokens), out var gradX) || gradX <= 0) return "?";
        return (mib / gradX).ToString("0.00", CultureInfo.InvariantCulture);
    }
}

public static class BenchMode
{
    /// <summary>Measures memory in child processes, then runs BenchmarkDotNet in this process.</summary>
    public static int Run(string[] bdnArgs, int threads)
    {
        var tokens = typeof(RelevanceBenchmarks).GetProperty(nameof(RelevanceBenchmarks.Tokens))!
            .GetCustomAttributes(typeof(ParamsAttribute), false).Cast<ParamsAttribute>().Single().Values.Cast<int>().ToArray();
        Console.WriteLine($"Peak extra memory, one process per method ({RelevanceBenchmarks.Layers} layers, tokens {string.Join(", ", tokens)}):");
        foreach (var t in tokens)
            foreach (var m in Workload.AllMethods)
            {
                var r = MemoryProbe.MeasureInChild(m, new ModelShape { Tokens = t }, timedRuns: 0, threads);
                RelevanceBenchmarks.PeakExtraMiB[(m, t)] = r.PeakExtraMiB;
                Console.WriteLine($"  {m,-20} {t,5} tokens: +{r.PeakExtraMiB,8:0.0} MiB (baseline {r.BaselineMiB:0} MiB)");
            }
        var summary = BenchmarkRunner.Run<RelevanceBenchmarks>(args: bdnArgs);
        return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
    }
}
