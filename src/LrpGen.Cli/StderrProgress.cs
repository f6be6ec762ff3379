using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace LrpGen.Cli;

/// <summary>Progress of long steps (loading weights, the relevance pass) as lines on stderr, written at once
/// (unlike <see cref="Progress{T}"/>, which posts to the thread pool), each with the seconds since the start.</summary>
public sealed class StderrProgress : IProgress<string>
{
    private readonly TextWriter _stderr;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public StderrProgress(TextWriter stderr) => _stderr = stderr;

    public void Report(string value)
    {
        _stderr.WriteLine($"[{_clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),5}s] {value}");
        _stderr.Flush();
    }
}
