using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using LrpGen.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LrpGen.Generators.Tests;

/// <summary>Compiles sources against the .NET runtime, TorchSharp and the LrpGen runtime, and runs the generator.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var paths = tpa.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                                   || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Concat(new[] { typeof(TorchSharp.torch).Assembly.Location, typeof(LrpModuleAttribute).Assembly.Location })
            .Distinct();
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static CSharpCompilation Compile(params (string Path, string Source)[] sources) =>
        CSharpCompilation.Create("Scenarios",
            sources.Select(s => CSharpSyntaxTree.ParseText(s.Source, ParseOptions, path: s.Path)),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create(
            new[] { new LrpGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public sealed record Run(GeneratorDriver Driver, GeneratorRunResult Result, Compilation Output)
    {
        /// <summary>Diagnostics of the compilation with the generated code (computed on demand: it is a full compile).</summary>
        public ImmutableArray<Diagnostic> CompileDiagnostics => Output.GetDiagnostics();
    }

    public static Run Generate(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? Driver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var result = driver.GetRunResult().Results.Single();
        return new Run(driver, result, output);
    }

    /// <summary>The scenario modules of the numeric tests, copied beside the test assembly.</summary>
    public static (string Path, string Source)[] Scenarios()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Scenarios");
        return Directory.GetFiles(dir, "*.cs").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => ("Scenarios/" + Path.GetFileName(f), File.ReadAllText(f))).ToArray();
    }

    public const string Usings = "using System;\nusing LrpGen;\nusing TorchSharp;\nusing TorchSharp.Modules;\nusing static TorchSharp.torch;\n";
}
