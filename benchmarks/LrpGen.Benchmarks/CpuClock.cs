using System.Runtime.InteropServices;

namespace LrpGen.Benchmarks;

/// <summary>CPU time of this process (all threads, user + system) from clock_gettime(CLOCK_PROCESS_CPUTIME_ID), in ms,
/// to the nanosecond (Process.TotalProcessorTime reads /proc in 10 ms ticks). On a shared machine, the CPU time of a
/// one-thread run is what its wall time would be on an idle one; its wall time also counts the waits for a core.</summary>
public static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double NowMs()
    {
        if (ClockGetTime(ClockProcessCpuTimeId, out var t) != 0) return double.NaN;
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }
}
