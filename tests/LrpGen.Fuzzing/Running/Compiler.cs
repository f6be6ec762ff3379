using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LrpGen.Fuzzing.Generation;
using LrpGen.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LrpGen.Fuzzing.Running;

/// <summary>Compiles programs with the LrpGen generator in-process and sorts each program by what happened.</summary>
internal static class Compiler
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var paths = tpa.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                                   || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Concat(new[] { typeof(TorchSharp.torch).Assembly.Location, typeof(LrpModuleAttribute).Assembly.Location, typeof(IFuzzCase).Assembly.Location })
            .Distinct();
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static int _assemblies;

    /// <summary>Per batch; generous because the machines that run the tests may be loaded.</summary>
    private static readonly TimeSpan GeneratorTimeout = TimeSpan.FromSeconds(300);

    /// <summary>The outcome of compiling one batch: an assembly with the programs that compiled, and a verdict
    /// for the others.</summary>
    public sealed record Result(byte[]? Assembly, IReadOnlyList<FuzzProgram> Compiled, IReadOnlyList<(FuzzProgram Program, Outcome Outcome, string Detail)> Settled);

    public static Result Compile(IReadOnlyList<FuzzProgram> programs)
    {
        var settled = new List<(FuzzProgram, Outcome, string)>();
        var trees = programs.ToDictionary(p => p, p => CSharpSyntaxTree.ParseText(p.Source, ParseOptions, path: p.Name + ".cs"));
        var compilation = CSharpCompilation.Create("FuzzBatch" + _assemblies++, trees.Values, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                optimizationLevel: OptimizationLevel.Debug));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Compilation output;
        ImmutableArray<Diagnostic> generatorDiagnostics;
        try
        {
            // A generator that does not finish is a generator bug like an exception (the thread is abandoned).
            var work = System.Threading.Tasks.Task.Run(() =>
            {
                var driver = CSharpGeneratorDriver.Create(new[] { new LrpGenerator().AsSourceGenerator() }, parseOptions: ParseOptions)
                    .RunGeneratorsAndUpdateCompilation(compilation, out var updated, out var diagnostics);
                return (driver, updated, diagnostics);
            });
            if (!work.Wait(GeneratorTimeout)) throw new TimeoutException($"the generator did not finish in {GeneratorTimeout.TotalSeconds:F0} s");
            output = work.Result.updated;
            generatorDiagnostics = work.Result.diagnostics;
            var run = work.Result.driver.GetRunResult().Results.Single();
            if (run.Exception is not null) throw run.Exception;
        }
        catch (Exception e) when (programs.Count > 1)
        {
            // Find the program that makes the generator throw: compile the others on their own.
            Console.Error.WriteLine($"the generator threw on a batch ({e.GetType().Name}); compiling its programs one by one");
            var parts = programs.Select(p => Compile(new[] { p })).ToList();
            return Merge(parts);
        }
        catch (Exception e)
        {
            settled.Add((programs[0], Outcome.GeneratorException, $"the generator threw {e.GetType().Name}: {e.Message}"));
            return new Result(null, Array.Empty<FuzzProgram>(), settled);
        }

        var generateTime = watch.Elapsed;
        if (Environment.GetEnvironmentVariable("FUZZ_TIMING") is not null) Console.Error.WriteLine($"generated in {generateTime.TotalSeconds:F1} s");
        var candidates = new List<FuzzProgram>();
        foreach (var p in programs)
        {
            // LRP009 (an emitter fault) has no location: it names the class.
            var classOfProgram = new Regex(@"\b" + Regex.Escape(p.Name) + @"(C\d+)?\b");
            // The generator's diagnostics carry a file location (path and span), not a syntax tree.
            var own = generatorDiagnostics.Where(d => d.Location.GetLineSpan().Path == trees[p].FilePath
                                                      || (d.Location == Location.None && classOfProgram.IsMatch(d.GetMessage()))).ToList();
            string Describe() => string.Join("; ", own.Select(d => $"{d.Id} line {d.Location.GetLineSpan().StartLinePosition.Line + 1}: {d.GetMessage()}"));
            if (own.Any(d => d.Id == "LRP009"))
                settled.Add((p, Outcome.GeneratorException, Describe()));
            else if (p.RejectLine is int line)
            {
                bool atLine = own.Any(d => d.Id == p.RejectId && d.Location.GetLineSpan().StartLinePosition.Line + 1 == line);
                settled.Add(atLine
                    ? (p, Outcome.RejectedAsExpected, Describe())
                    : (p, Outcome.MissedRejection, own.Count == 0 ? $"no diagnostic; expected {p.RejectId} at line {line}" : $"expected {p.RejectId} at line {line}, got: {Describe()}"));
            }
            else if (own.Any(d => d.Severity == DiagnosticSeverity.Error))
                settled.Add((p, Outcome.WronglyRejected, Describe()));
            else
                candidates.Add(p);
        }

        var generated = output.SyntaxTrees.Where(t => !trees.ContainsValue((SyntaxTree)t)).ToList();
        var treesOf = candidates.ToDictionary(p => p, p =>
        {
            var ns = new Regex(@"namespace " + Regex.Escape(FuzzProgram.NamespacePrefix + p.Name) + @"\s");
            return generated.Where(t => ns.IsMatch(t.ToString())).Append(trees[p]).ToArray();
        });
        SyntaxTree[] TreesOf(FuzzProgram p) => treesOf[p];
        var final = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(candidates.SelectMany(TreesOf).Distinct());
        while (candidates.Count > 0)
        {
            using var stream = new MemoryStream();
            var emit = final.Emit(stream);
            if (Environment.GetEnvironmentVariable("FUZZ_TIMING") is not null)
                Console.Error.WriteLine($"generate {generateTime.TotalSeconds:F1} s, emit {(watch.Elapsed - generateTime).TotalSeconds:F1} s");
            if (emit.Success) return new Result(stream.ToArray(), candidates, settled);
            var errors = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var failing = candidates.Where(p => errors.Any(d => TreesOf(p).Contains(d.Location.SourceTree))).ToList();
            if (failing.Count == 0)
                throw new InvalidOperationException("batch does not compile: " + string.Join("\n", errors.Take(5)));
            foreach (var p in failing)
            {
                var own = errors.Where(d => TreesOf(p).Contains(d.Location.SourceTree)).ToList();
                bool inUserCode = own.Any(d => d.Location.SourceTree == trees[p]);
                string detail = string.Join("\n", own.Take(5).Select(d => $"{d.Location.SourceTree?.FilePath}({d.Location.GetLineSpan().StartLinePosition.Line + 1}): {d.Id} {d.GetMessage()}"));
                settled.Add((p, inUserCode && own.All(d => d.Location.SourceTree == trees[p]) ? Outcome.FuzzerError : Outcome.UncompilableGeneratedCode, detail));
                final = final.RemoveSyntaxTrees(TreesOf(p).Where(final.SyntaxTrees.Contains));
                candidates.Remove(p);
            }
        }
        return new Result(null, candidates, settled);
    }

    private static Result Merge(IReadOnlyList<Result> parts)
    {
        // Recompiling the survivors together keeps one assembly per batch.
        var compiled = parts.SelectMany(p => p.Compiled).ToList();
        var settled = parts.SelectMany(p => p.Settled).ToList();
        if (compiled.Count == 0) return new Result(null, compiled, settled);
        var again = Compile(compiled);
        return new Result(again.Assembly, again.Compiled, settled.Concat(again.Settled).ToList());
    }
}

/// <summary>What happened to one program.</summary>
public enum Outcome
{
    Passed,
    RejectedAsExpected,
    Mismatch,
    MissedRejection,
    /// <summary>A valid program that the generator rejected (counted with the mismatches).</summary>
    WronglyRejected,
    GeneratorException,
    UncompilableGeneratedCode,
    /// <summary>The fuzzer wrote a program that is not valid C# or fails in its own reference: a fuzzer bug.</summary>
    FuzzerError,
}
