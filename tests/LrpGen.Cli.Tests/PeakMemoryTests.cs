using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 12: <c>lrpgen explain</c> reports its peak memory in its progress output. The reported figure is
/// the process's high-water mark at the end of the pass, so (run in this process) it lies between the resident set
/// read before the run and the high-water mark read after it, both read here from /proc/self/status (Linux, where
/// the project's tests run).</summary>
public class PeakMemoryTests
{
    [Fact]
    public void ExplainReportsThePeakBetweenTheResidentSetBeforeAndTheHighWaterMarkAfter()
    {
        var folder = GoldenData.Folder("llama");
        double rssBefore = StatusMiB("VmRSS");

        var run = CliRun.Plain("explain", folder, "--ids", "5,17,3,9,2");
        double hwmAfter = StatusMiB("VmHWM");

        Assert.True(run.ExitCode == 0, run.ToString());
        var line = Assert.Single(run.Stderr.Split('\n'), l => l.Contains("peak memory", StringComparison.Ordinal));
        var match = Regex.Match(line, @"explained; peak memory (\d+\.\d) MiB \(VmHWM\)");
        Assert.True(match.Success, line);
        double reported = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(reported, rssBefore - 0.1, hwmAfter + 0.1);
    }

    private static double StatusMiB(string field)
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }
}
