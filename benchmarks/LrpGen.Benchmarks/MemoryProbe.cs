using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;

namespace LrpGen.Benchmarks;

/// <summary>One measurement of one method in a process of its own: peak extra resident memory and times.</summary>
public sealed record Measurement
{
    [JsonPropertyName("method")] public string Method { get; init; } = "";
    [JsonPropertyName("tokens")] public int Tokens { get; init; }
    [JsonPropertyName("layers")] public int Layers { get; init; }
    /// <summary>Resident set after the model, the inputs and a small warm-up run, in MiB.</summary>
    [JsonPropertyName("baseline_mib")] public double BaselineMiB { get; init; }
    /// <summary>Peak resident set (VmHWM, reset after the baseline) during one run, minus the baseline, in MiB.</summary>
    [JsonPropertyName("peak_extra_mib")] public double PeakExtraMiB { get; init; }
    /// <summary>Wall times of the timed runs that followed, in ms (median below).</summary>
    [JsonPropertyName("times_ms")] public double[] TimesMs { get; init; } = Array.Empty<double>();
    [JsonPropertyName("median_ms")] public double MedianMs { get; init; }
    /// <summary>CPU time of the process (user + system, all threads) of the timed runs, in ms.</summary>
    [JsonPropertyName("cpu_ms")] public double[] CpuMs { get; init; } = Array.Empty<double>();
    [JsonPropertyName("threads")] public int Threads { get; init; }
}

/// <summary>Peak extra native memory, counted the way that sees LibTorch's allocations: the kernel's resident-set
/// high-water mark of a process that runs one method. The process loads the model, prepares the input, runs the
/// method once on 16 tokens (code pages, thread pools), records VmRSS, resets VmHWM (writing 5 to
/// /proc/self/clear_refs), runs the method once at full size and reads VmHWM. glibc is told to serve every block
/// of 64 KiB or more by mmap (MALLOC_MMAP_THRESHOLD_), so freed tensors leave the resident set at once and the
/// peak is not inflated by heap reuse across methods.</summary>
public static class MemoryProbe
{
    public const string MmapThreshold = "65536";

    /// <summary>Set in the probe processes: a probe runs --memory only and never starts probes of its own.</summary>
    public const string ChildVariable = "LRPGEN_BENCHMARK_PROBE";

    public static long StatusKiB(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Substring(field.Length + 1).Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"/proc/self/status has no {field}.");
    }

    public static double RssMiB => StatusKiB("VmRSS") / 1024.0;
    public static double HwmMiB => StatusKiB("VmHWM") / 1024.0;

    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    /// <summary>The child side: measures in this process and returns the measurement.</summary>
    /// <param name="peak">False for a process that only times (started without the mmap threshold, which makes
    /// every large allocation page-fault): the peak is then not measured and reported as 0.</param>
    public static Measurement MeasureHere(Method method, ModelShape shape, int timedRuns, bool peak = true)
    {
        if (peak && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            Console.Error.WriteLine("note: MALLOC_MMAP_THRESHOLD_ is not set; run through the driver for comparable peaks.");
        // Warm-up on a small input: loads the kernels' code and starts the thread pools.
        using (var small = new Workload(shape with { Tokens = 16 }))
            small.RunAndDrop(method);
        using var work = new Workload(shape);
        Settle();
        double baseline = RssMiB;
        double high = baseline;
        if (peak)
        {
            ResetPeak();
            work.RunAndDrop(method);
            high = HwmMiB;
        }
        var times = new double[timedRuns];
        var cpu = new double[timedRuns];
        for (int i = 0; i < timedRuns; i++)
        {
            var cpu0 = CpuClock.NowMs();
            var sw = Stopwatch.StartNew();
            work.RunAndDrop(method);
            times[i] = sw.Elapsed.TotalMilliseconds;
            cpu[i] = CpuClock.NowMs() - cpu0;
        }
        return new Measurement
        {
            Method = method.ToString(),
            Tokens = shape.Tokens,
            Layers = shape.Layers,
            BaselineMiB = Math.Round(baseline, 1),
            PeakExtraMiB = Math.Round(high - baseline, 1),
            TimesMs = times.Select(t => Math.Round(t, 2)).ToArray(),
            MedianMs = timedRuns > 0 ? Math.Round(Median(times), 2) : 0,
            CpuMs = cpu.Select(t => Math.Round(t, 1)).ToArray(),
            Threads = torch.get_num_threads(),
        };
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The parent side: runs <c>memory</c> in a new process of this executable and parses its JSON line.</summary>
    public static Measurement MeasureInChild(Method method, ModelShape shape, int timedRuns, int threads) =>
        MeasureInChildAsync(method, shape, timedRuns, threads, peak: true).GetAwaiter().GetResult();

    /// <summary>As <see cref="MeasureInChild"/>, without blocking (several probes can run at once: each measures its
    /// own process). <paramref name="peak"/> false: a timing-only process (<c>--no-peak</c>, default allocator).</summary>
    public static async System.Threading.Tasks.Task<Measurement> MeasureInChildAsync(Method method, ModelShape shape, int timedRuns, int threads, bool peak)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Started through the apphost (or `dotnet <dll>` when run that way).
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(typeof(MemoryProbe).Assembly.Location);
        foreach (var a in new[]
                 {
                     "--memory", method.ToString(), shape.Tokens.ToString(CultureInfo.InvariantCulture),
                     shape.Layers.ToString(CultureInfo.InvariantCulture), "--runs", timedRuns.ToString(CultureInfo.InvariantCulture),
                     "--threads", threads.ToString(CultureInfo.InvariantCulture),
                 })
            psi.ArgumentList.Add(a);
        if (peak) psi.Environment["MALLOC_MMAP_THRESHOLD_"] = MmapThreshold;
        else psi.ArgumentList.Add("--no-peak");
        psi.Environment[ChildVariable] = "1";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the memory probe");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = await p.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await p.WaitForExitAsync().ConfigureAwait(false);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"memory probe {method} {shape.Tokens} {shape.Layers} failed ({p.ExitCode}): {await stderr.ConfigureAwait(false)}");
        var line = stdout.Split('\n').Last(l => l.TrimStart().StartsWith("{", StringComparison.Ordinal));
        return JsonSerializer.Deserialize<Measurement>(line) ?? throw new InvalidOperationException("empty probe output");
    }

    public static double Median(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0) return double.NaN;
        var s = xs.OrderBy(x => x).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
