using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using LrpGen.Fuzzing.Running;

namespace LrpGen.Fuzzing;

/// <summary>dotnet run -c Release --project tests/LrpGen.Fuzzing -- --programs N --seed S [--skip a,b] [--save DIR]
/// Prints each failure, then (last) one JSON line with the counts.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        int programs = 100, seed = 1, first = 0, batch = FuzzRun.DefaultBatchSize;
        string[] skipped = Array.Empty<string>();
        string? save = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--programs": programs = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--skip": skipped = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--save": save = Value(); break;
                case "--first": first = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--files": return RunFiles(Value().Split(',', StringSplitOptions.RemoveEmptyEntries));
                default:
                    Console.Error.WriteLine($"unknown argument '{args[i]}' (usage: --programs N --seed S [--skip construct,...] [--save DIR])");
                    return 2;
            }
        }
        var clock = Stopwatch.StartNew();
        int reported = 0;
        var run = FuzzRun.Programs(seed, programs, skipped, r =>
        {
            foreach (var (program, outcome, detail) in r.Failures.Skip(reported))
            {
                Console.WriteLine($"{outcome} {program.Name}: {detail}");
                if (save is not null)
                {
                    Directory.CreateDirectory(save);
                    File.WriteAllText(Path.Combine(save, program.Name + ".cs"), program.Source);
                }
            }
            reported = r.Failures.Count();
            Console.Out.Flush();
            Console.Error.WriteLine($"{r.Results.Count}/{programs} programs, {clock.Elapsed.TotalSeconds:F0} s (compile {r.CompileTime.TotalSeconds:F0} s, run {r.RunTime.TotalSeconds:F0} s)");
        }, first, batch);
        int fuzzerErrors = run.Count(Outcome.FuzzerError);
        if (fuzzerErrors > 0) Console.WriteLine($"fuzzer errors (invalid generated programs, not generator bugs): {fuzzerErrors}");
        Console.WriteLine($"elapsed: {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine(run.SummaryJson());
        return run.Failures.Any() ? 1 : 0;
    }

    /// <summary>Runs saved programs (regressions, minimised repros) and prints each outcome.</summary>
    private static int RunFiles(string[] paths)
    {
        var programs = paths.Select(p => Generation.FuzzProgram.FromSource(Path.GetFileNameWithoutExtension(p), File.ReadAllText(p))).ToList();
        var run = FuzzRun.Of(programs);
        foreach (var (program, outcome, detail) in run.Results) Console.WriteLine($"{outcome} {program.Name}: {detail}");
        Console.WriteLine(run.SummaryJson());
        return run.Failures.Any() ? 1 : 0;
    }
}
