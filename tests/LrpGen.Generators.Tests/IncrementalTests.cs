using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>The pipeline caches: edits that do not touch an [LrpModule] class regenerate nothing.</summary>
public class IncrementalTests
{
    private static void AssertNothingRegenerated(GeneratorRunResult result)
    {
        var parse = result.TrackedSteps[TrackingNames.Parse].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(parse);
        Assert.All(parse, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"parse step: {o.Reason}"));
        var outputs = result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output step: {o.Reason}"));
    }

    [Fact]
    public void AddingAnUnrelatedFileRegeneratesNothing()
    {
        var compilation = GeneratorHarness.Compile(GeneratorHarness.Scenarios());
        var first = GeneratorHarness.Generate(compilation);
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("public static class Unrelated { public static int Two => 2; }", GeneratorHarness.ParseOptions, path: "Unrelated.cs"));
        var second = GeneratorHarness.Generate(edited, first.Driver);
        AssertNothingRegenerated(second.Result);
        Assert.Equal(first.Result.GeneratedSources.Length, second.Result.GeneratedSources.Length);
    }

    [Fact]
    public void AnUnrelatedEditAfterTheClassInTheSameFileRegeneratesNothing()
    {
        var sources = GeneratorHarness.Scenarios();
        var compilation = GeneratorHarness.Compile(sources);
        var first = GeneratorHarness.Generate(compilation);
        var (path, text) = sources.First(s => s.Path.EndsWith("GatedMlp.cs"));
        var oldTree = compilation.SyntaxTrees.First(t => t.FilePath == path);
        var newTree = CSharpSyntaxTree.ParseText(text + "\ninternal static class Later { public static int One => 1; }\n", GeneratorHarness.ParseOptions, path: path);
        var second = GeneratorHarness.Generate(compilation.ReplaceSyntaxTree(oldTree, newTree), first.Driver);
        AssertNothingRegenerated(second.Result);
    }

    [Fact]
    public void EditingForwardRegeneratesThatModule()
    {
        var sources = GeneratorHarness.Scenarios();
        var compilation = GeneratorHarness.Compile(sources);
        var first = GeneratorHarness.Generate(compilation);
        var (path, text) = sources.First(s => s.Path.EndsWith("GatedMlp.cs"));
        var oldTree = compilation.SyntaxTrees.First(t => t.FilePath == path);
        var newTree = CSharpSyntaxTree.ParseText(text.Replace("nn.functional.silu(", "nn.functional.gelu("), GeneratorHarness.ParseOptions, path: path);
        var second = GeneratorHarness.Generate(compilation.ReplaceSyntaxTree(oldTree, newTree), first.Driver);
        var modified = second.Result.TrackedSteps[TrackingNames.Parse].SelectMany(s => s.Outputs).Count(o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(1, modified);
        Assert.Contains("Gelu", second.Result.GeneratedSources.Single(s => s.HintName.Contains("GatedMlp")).SourceText.ToString());
    }
}
