using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>The generated code of every scenario, checked against its verified snapshot.</summary>
public class SnapshotTests
{
    private static readonly GeneratorHarness.Run Run = GeneratorHarness.Generate(GeneratorHarness.Compile(GeneratorHarness.Scenarios()));

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var s in Run.Result.GeneratedSources.OrderBy(s => s.HintName)) data.Add(s.HintName);
        return data;
    }

    [Fact]
    public void EveryScenarioGeneratesCodeThatCompiles()
    {
        // Infos (LRP013: an attention kept as the full matrix) are expected in some scenarios; nothing more severe.
        Assert.Empty(Run.Result.Diagnostics.Where(d => d.Severity != DiagnosticSeverity.Info));
        Assert.Null(Run.Result.Exception);
        Assert.Empty(Run.CompileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.True(Run.Result.GeneratedSources.Length >= 12, $"only {Run.Result.GeneratedSources.Length} scenarios");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GeneratedCodeMatchesSnapshot(string hintName)
    {
        var source = Run.Result.GeneratedSources.Single(s => s.HintName == hintName);
        Snapshot.Verify(source.SourceText.ToString(), hintName.Replace(".Lrp.g.cs", "").Replace("LrpGen.Tests.Scenarios.", ""));
    }
}
