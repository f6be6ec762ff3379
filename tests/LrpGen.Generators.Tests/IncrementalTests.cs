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
        var (path, text) = sources.First(s => s.Path.EndsWith("/GatedMlp.cs"));
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
        var (path, text) = sources.First(s => s.Path.EndsWith("/GatedMlp.cs"));
        var oldTree = compilation.SyntaxTrees.First(t => t.FilePath == path);
        var newTree = CSharpSyntaxTree.ParseText(text.Replace("nn.functional.silu(", "nn.functional.gelu("), GeneratorHarness.ParseOptions, path: path);
        var second = GeneratorHarness.Generate(compilation.ReplaceSyntaxTree(oldTree, newTree), first.Driver);
        var modified = second.Result.TrackedSteps[TrackingNames.Parse].SelectMany(s => s.Outputs).Count(o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(1, modified);
        Assert.Contains("Gelu", second.Result.GeneratedSources.Single(s => s.HintName.EndsWith(".GatedMlp.Lrp.g.cs")).SourceText.ToString());
    }

    [Fact]
    public void AnEditAboveAClassMovesItsDiagnosticsButEmitsNothing()
    {
        // The warning (LRP010 at x.gt(0)) carries a source span, which the edit shifts; the model carries no
        // location (its comments cite lines relative to the method that holds them), so its code is not emitted
        // again, even though the edit adds lines above the class.
        const string before = GeneratorHarness.Usings + "namespace T;\n/* note */\n[LrpModule]\n"
            + "public partial class Masked : nn.Module<Tensor, Tensor>\n{\n    public Masked() : base(\"Masked\") { }\n"
            + "    public override Tensor forward(Tensor x) => x * x.gt(0).to(x.dtype);\n}\n";
        string after = before.Replace("/* note */", "/* a longer note,\n   written above the class\n   on three lines */");
        var compilation = GeneratorHarness.Compile(("Masked.cs", before));
        var first = GeneratorHarness.Generate(compilation);
        var warning = Assert.Single(first.Result.Diagnostics, d => d.Id == "LRP010");

        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(), CSharpSyntaxTree.ParseText(after, GeneratorHarness.ParseOptions, path: "Masked.cs"));
        var second = GeneratorHarness.Generate(edited, first.Driver);

        var model = second.Result.TrackedSteps[TrackingNames.Model].SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(model);
        Assert.All(model, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"model step: {o.Reason}"));
        var diagnostics = second.Result.TrackedSteps[TrackingNames.Diagnostics].SelectMany(s => s.Outputs).ToList();
        Assert.Contains(diagnostics, o => o.Reason == IncrementalStepRunReason.Modified);
        var moved = Assert.Single(second.Result.Diagnostics, d => d.Id == "LRP010");
        Assert.Equal(warning.Location.SourceSpan.Start + (after.Length - before.Length), moved.Location.SourceSpan.Start);
        Assert.Equal(first.Result.GeneratedSources.Single().SourceText.ToString(), second.Result.GeneratedSources.Single().SourceText.ToString());
    }
}
