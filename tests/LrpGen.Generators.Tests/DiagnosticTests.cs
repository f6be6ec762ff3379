using System.Linq;
using LrpGen.Generators.Ir;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>One test (at least) per diagnostic: the ID, the location, and that no code is generated for a broken class.</summary>
public class DiagnosticTests
{
    /// <summary>Runs the generator on a source whose [|marked|] span is where the diagnostic must point.</summary>
    private static Diagnostic Expect(string id, string markedSource, string? messageContains = null)
    {
        int start = markedSource.IndexOf("[|", System.StringComparison.Ordinal);
        int end = markedSource.IndexOf("|]", System.StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "the test source must mark the expected span with [| |]");
        string source = GeneratorHarness.Usings + markedSource.Replace("[|", "").Replace("|]", "");
        int expectedStart = GeneratorHarness.Usings.Length + start;
        var run = GeneratorHarness.Generate(GeneratorHarness.Compile(("Test.cs", source)));
        Assert.Null(run.Result.Exception);
        var diagnostic = Assert.Single(run.Result.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(expectedStart, diagnostic.Location.SourceSpan.Start);
        Assert.False(string.IsNullOrEmpty(diagnostic.Descriptor.HelpLinkUri));
        if (messageContains is not null) Assert.Contains(messageContains, diagnostic.GetMessage());
        // No relevance pass for a broken class; at most a stub whose LrpForward throws.
        Assert.All(run.Result.GeneratedSources, s => Assert.Contains("no relevance pass was generated", s.SourceText.ToString()));
        Assert.Empty(run.CompileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        return diagnostic;
    }

    private const string Mlp = @"
    private readonly Linear fc = nn.Linear(4, 4);";

    [Fact]
    public void LRP001_ClassNotPartial() => Expect("LRP001", @"
[LrpModule]
public class [|M|] : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x) => x;
}");

    [Fact]
    public void LRP002_NoForward() => Expect("LRP002", @"
[LrpModule]
public partial class [|M|] : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x) => throw new NotImplementedException();
    void Unrelated() { }
}".Replace("public override Tensor forward(Tensor x) => throw new NotImplementedException();", "") .Replace(": nn.Module<Tensor, Tensor>", ": nn.Module"), "no instance method named 'forward'");

    [Fact]
    public void LRP002_ForwardNotReturningTensor() => Expect("LRP002", @"
[LrpModule]
public partial class M : nn.Module
{
    public M() : base(""M"") { }
    public int [|forward|](Tensor x) => 1;
}", "not a Tensor");

    [Fact]
    public void LRP003_OperationWithoutRule() => Expect("LRP003", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{" + Mlp + @"
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x)
    {
        var h = fc.call(x);
        return [|h.cumsum(1)|];
    }
}", "'cumsum'");

    [Fact]
    public void LRP003_RsqrtOutsideNormIdentity() => Expect("LRP003", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x) => x * [|x.rsqrt()|];
}", "[NormIdentity] Tensor RmsNorm(Tensor x)");

    [Fact]
    public void LRP003_DivisionByRelevanceCarryingTensor() => Expect("LRP003", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x, Tensor y) => [|x / y|];
}", "division");

    [Fact]
    public void LRP003_OffPathOperationsAreFine()
    {
        // The same unknown operation on a constant (a mask) is computed, not an error.
        var source = GeneratorHarness.Usings + @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask) => x * mask.cumsum(1);
}";
        var run = GeneratorHarness.Generate(GeneratorHarness.Compile(("Test.cs", source)));
        Assert.Empty(run.Result.Diagnostics);
        Assert.Empty(run.CompileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void LRP004_UnsupportedSubmodule() => Expect("LRP004", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private readonly Conv1d conv = nn.Conv1d(4, 4, 3);
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x) => [|conv.call(x)|];
}", "Conv1d");

    [Fact]
    public void LRP004_PlainModuleWithoutLrpModule() => Expect("LRP004", @"
public class Plain : nn.Module<Tensor, Tensor>
{
    public Plain() : base(""Plain"") { }
    public override Tensor forward(Tensor x) => x;
}
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private readonly Plain inner = new Plain();
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x) => [|inner.call(x)|];
}", "neither an [LrpModule]");

    [Fact]
    public void LRP005_EpsilonRuleOnLayerNorm() => Expect("LRP005", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    [EpsilonRule(0.1)] private readonly LayerNorm [|ln|] = nn.LayerNorm(4);
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x) => ln.call(x);
}", "EpsilonRule");

    [Fact]
    public void LRP005_IdentityNonlinearityOnTwoTensorHelper() => Expect("LRP005", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    [IdentityNonlinearity] private static Tensor [|Mix|](Tensor a, Tensor b) => a.tanh() * b;
    public override Tensor forward(Tensor x) => x.relu();
}", "exactly one tensor");

    [Fact]
    public void LRP005_NoRelevanceOnNonTensor() => Expect("LRP005", @"
[LrpModule]
public partial class M : nn.Module<Tensor, long, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x, [NoRelevance] long [|n|]) => x * n;
}", "NoRelevance");

    [Fact]
    public void LRP006_WhileLoop() => Expect("LRP006", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x)
    {
        int i = 0;
        [|while (i < 3) { x = x * 2; i++; }|]
        return x;
    }
}", "while");

    [Fact]
    public void LRP006_AssignmentToField() => Expect("LRP006", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private Tensor? cache;
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x)
    {
        [|cache = x * 2|];
        return x;
    }
}", "assign locals only");

    [Fact]
    public void LRP006_InPlaceOperation() => Expect("LRP006", @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x)
    {
        var y = x * 2;
        var z = [|y.add_(1)|];
        return z;
    }
}", "in-place");

    [Fact]
    public void LRP007_NotAModule() => Expect("LRP007", @"
[LrpModule]
public partial class [|M|]
{
    public Tensor forward(Tensor x) => x;
}");

    [Fact]
    public void LRP008_GenericClass() => Expect("LRP008", @"
[LrpModule]
public partial class [|M|]<T> : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    public override Tensor forward(Tensor x) => x;
}", "generic");

    [Fact]
    public void LRP008_ContainingTypeNotPartial() => Expect("LRP008", @"
public class Outer
{
    [LrpModule]
    public partial class [|M|] : nn.Module<Tensor, Tensor>
    {
        public M() : base(""M"") { }
        public override Tensor forward(Tensor x) => x;
    }
}", "Outer");

    [Fact]
    public void LRP009_EmitterFaultIsReportedNotThrown()
    {
        // A model whose return refers to a value that does not exist: the emitter fails; the generator reports it.
        var model = new ModuleModel("M.Lrp.g.cs", null, EquatableArray<string>.Empty, "M", "partial class M",
            EquatableArray<string>.Empty, EquatableArray<ForwardParameter>.Empty, EquatableArray<ValueInfo>.Empty,
            new Region(new Stmt[] { new ReturnStmt(42, "return ?", "line 1 of M.forward") }.ToEquatable()), Valid: true, Prefix: "");
        var reported = new System.Collections.Generic.List<Diagnostic>();
        var added = new System.Collections.Generic.List<string>();
        LrpGenerator.EmitModule(model, reported.Add, (name, _) => added.Add(name));
        var d = Assert.Single(reported);
        Assert.Equal("LRP009", d.Id);
        Assert.Empty(added);
    }

    [Fact]
    public void EveryDescriptorHasHelpTextAndADocsPage()
    {
        foreach (var d in Diagnostics.LrpDiagnostics.Descriptors)
        {
            string id = d.Id;
            Assert.False(string.IsNullOrWhiteSpace(d.Description.ToString()));
            Assert.Equal($"docs/diagnostics/{id}.md", d.HelpLinkUri);
            Assert.True(System.IO.File.Exists(System.IO.Path.Combine(RepoRoot(), d.HelpLinkUri)), $"the help link {d.HelpLinkUri} names no file of the repository");
            Assert.True(System.IO.File.Exists(System.IO.Path.Combine(RepoRoot(), "docs", "diagnostics", id + ".md")), $"docs/diagnostics/{id}.md is missing");
        }
    }

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, "..", ".."));
}
