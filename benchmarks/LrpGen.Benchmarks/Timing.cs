using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace LrpGen.Benchmarks;

/// <summary>Wall and CPU times of several methods on one workload, measured round-robin (one warm-up each first) so
/// that drift of the machine affects all alike.</summary>
public static class Timing
{
    public static Dictionary<Method, double[]> RoundRobin(Workload work, IReadOnlyList<Method> methods, int runs) =>
        RoundRobinWithCpu(work, methods, runs).Wall;

    /// <summary>Wall times and this process's CPU times (user + system, all threads) per run, in ms.</summary>
    public static (Dictionary<Method, double[]> Wall, Dictionary<Method, double[]> Cpu) RoundRobinWithCpu(Workload work, IReadOnlyList<Method> methods, int runs)
    {
        foreach (var m in methods) work.RunAndDrop(m); // warm-up
        var wall = methods.ToDictionary(m => m, _ => new double[runs]);
        var cpu = methods.ToDictionary(m => m, _ => new double[runs]);
        for (int r = 0; r < runs; r++)
            foreach (var m in methods)
            {
                GC.Collect();
                var cpu0 = CpuClock.NowMs();
                var sw = Stopwatch.StartNew();
                work.RunAndDrop(m);
                wall[m][r] = sw.Elapsed.TotalMilliseconds;
                cpu[m][r] = CpuClock.NowMs() - cpu0;
            }
        return (wall, cpu);
    }

    /// <summary>The 1-minute load average: other work on this machine (it is shared) shows here.</summary>
    public static double LoadAverage()
    {
        try
        {
            return double.Parse(System.IO.File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (System.IO.IOException)
        {
            return double.NaN;
        }
    }
}
