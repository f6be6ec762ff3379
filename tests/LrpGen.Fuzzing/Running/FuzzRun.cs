using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Fuzzing.Generation;

namespace LrpGen.Fuzzing.Running;

/// <summary>Generates, compiles (in batches) and checks programs, and tallies the outcomes.</summary>
public sealed class FuzzRun
{
    public const int DefaultBatchSize = 40;

    public List<(FuzzProgram Program, Outcome Outcome, string Detail)> Results { get; } = new();

    public TimeSpan CompileTime { get; private set; }
    public TimeSpan RunTime { get; private set; }

    public int Count(Outcome outcome) => Results.Count(r => r.Outcome == outcome);

    public IEnumerable<(FuzzProgram Program, Outcome Outcome, string Detail)> Failures =>
        Results.Where(r => r.Outcome is not (Outcome.Passed or Outcome.RejectedAsExpected));

    /// <summary>Programs 0..count-1 of a seed, with the given constructs skipped.</summary>
    public static FuzzRun Programs(int seed, int count, IEnumerable<string>? skipped = null, Action<FuzzRun>? progress = null,
        int first = 0, int batchSize = DefaultBatchSize)
    {
        var config = FuzzConfig.WithSkipped(skipped ?? Array.Empty<string>());
        var run = new FuzzRun();
        for (int start = first; start < first + count; start += batchSize)
        {
            var batch = Enumerable.Range(start, Math.Min(batchSize, first + count - start)).Select(i => ProgramGenerator.Generate(seed, i, config)).ToList();
            run.Check(batch);
            progress?.Invoke(run);
        }
        return run;
    }

    /// <summary>Given programs (regressions), compiled together.</summary>
    public static FuzzRun Of(IReadOnlyList<FuzzProgram> programs)
    {
        var run = new FuzzRun();
        run.Check(programs);
        return run;
    }

    private void Check(IReadOnlyList<FuzzProgram> batch)
    {
        // FUZZ_CURRENT=DIR keeps the programs of the batch in progress (to find one that hangs).
        if (Environment.GetEnvironmentVariable("FUZZ_CURRENT") is { } dir)
        {
            System.IO.Directory.CreateDirectory(dir);
            foreach (var p in batch) System.IO.File.WriteAllText(System.IO.Path.Combine(dir, p.Name + ".cs"), p.Source);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var compiled = Compiler.Compile(batch);
        CompileTime += clock.Elapsed;
        Results.AddRange(compiled.Settled);
        clock.Restart();
        if (compiled.Assembly is not null) Results.AddRange(Executor.Run(compiled.Assembly, compiled.Compiled));
        RunTime += clock.Elapsed;
    }

    /// <summary>The summary line: exactly these keys. Valid programs the generator rejects count as mismatches.</summary>
    public string SummaryJson() =>
        $"{{\"programs\": {Results.Count}, \"compiled\": {Count(Outcome.Passed) + Count(Outcome.Mismatch)}, " +
        $"\"rejected_as_expected\": {Count(Outcome.RejectedAsExpected)}, \"mismatches\": {Count(Outcome.Mismatch) + Count(Outcome.WronglyRejected)}, " +
        $"\"missed_rejections\": {Count(Outcome.MissedRejection)}, \"generator_exceptions\": {Count(Outcome.GeneratorException)}, " +
        $"\"uncompilable_generated_code\": {Count(Outcome.UncompilableGeneratedCode)}}}";
}
