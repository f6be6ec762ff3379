using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>The generator-trust items: constructs that once compiled and silently lost relevance, crashed, or generated
/// code that did not compile. Each gets its diagnostic at the marked line, or compiles to code without errors (the
/// numbers of those are checked against autograd in tests/LrpGen.Tests/HfPortsTests.cs).</summary>
public class TrustDiagnosticTests
{
    private const string Fields = @"
    private readonly Linear fc = nn.Linear(4, 4);
    public M() : base(""M"") { RegisterComponents(); }";

    /// <summary>Runs the generator; returns (id, severity, 1-based line within the class source) of each diagnostic,
    /// and asserts that no exception escaped and that whatever was generated compiles.</summary>
    private static List<(string Id, DiagnosticSeverity Severity, int Line)> Diagnose(string classSource)
    {
        string source = GeneratorHarness.Usings + classSource;
        var run = GeneratorHarness.Generate(GeneratorHarness.Compile(("Test.cs", source)));
        Assert.Null(run.Result.Exception);
        Assert.Empty(run.CompileDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        int offset = GeneratorHarness.Usings.Count(c => c == '\n');
        return run.Result.Diagnostics
            .Select(d => (d.Id, d.Severity, d.Location.GetLineSpan().StartLinePosition.Line + 1 - offset))
            .OrderBy(d => d.Item3).ToList();
    }

    private static int LineOf(string source, string marker) =>
        source.Split('\n').Select((l, i) => (l, i)).First(t => t.l.Contains(marker)).i + 1;

    private static string Module(string forwardBody, string parameters = "Tensor x", string types = "Tensor, Tensor") => $@"
[LrpModule]
public partial class M : nn.Module<{types}>
{{{Fields}
    public override Tensor forward({parameters})
    {{
{forwardBody}
    }}
}}";

    // 1. einsum: its tensors arrive as params Tensor[]; never a constant.
    [Fact]
    public void Item01_EinsumOfTwoOperandsCompiles() =>
        Assert.Empty(Diagnose(Module("        return torch.einsum(\"btd,bsd->bts\", fc.call(x), fc.call(x));")));

    [Fact]
    public void Item01_EinsumOfThreeOperandsIsLrp003()
    {
        var src = Module("        var h = fc.call(x);\n        return torch.einsum(\"ij,jk,kl->il\", h, h, h); // here");
        Assert.Equal(new[] { ("LRP003", DiagnosticSeverity.Error, LineOf(src, "// here")) }, Diagnose(src));
    }

    // 2. Tuple results on the path get the selection rule; tuple results of other functions are LRP003.
    [Fact]
    public void Item02_SelectionValuesCompile() =>
        Assert.Empty(Diagnose(Module("        var h = fc.call(x);\n        var (v, i) = h.max(-1);\n        return h.sort(-1).Values.sum(-1) + h.topk(2).values.sum(-1) + v;")));

    [Fact]
    public void Item02_OtherTupleResultOnPathIsLrp003()
    {
        var src = Module("        var h = fc.call(x);\n        return h.std_mean(-1).std; // here");
        Assert.Equal(new[] { ("LRP003", DiagnosticSeverity.Error, LineOf(src, "// here")) }, Diagnose(src));
    }

    // 3. sin / cos / outer / polar on the path have no rule; zero-gradient functions warn; tril has an adjoint.
    [Theory]
    [InlineData("h.sin()"), InlineData("h.cos()"), InlineData("torch.outer(h.flatten(), h.flatten())")]
    public void Item03_NoRuleFunctionsOnPathAreLrp003(string expression)
    {
        var src = Module($"        var h = fc.call(x);\n        return {expression}; // here");
        Assert.Equal(new[] { ("LRP003", DiagnosticSeverity.Error, LineOf(src, "// here")) }, Diagnose(src));
    }

    [Theory]
    [InlineData("h.sign()"), InlineData("h.argmax(-1).to(h.dtype)"), InlineData("h.gt(0).to(h.dtype)")]
    public void Item03_ZeroGradientOnPathWarnsLrp010(string expression)
    {
        var src = Module($"        var h = fc.call(x);\n        return fc.call(x) + {expression}; // here");
        Assert.Equal(new[] { ("LRP010", DiagnosticSeverity.Warning, LineOf(src, "// here")) }, Diagnose(src));
    }

    [Fact]
    public void Item03_ZeroGradientOfDetachedInputIsSilent() =>
        Assert.Empty(Diagnose(Module("        var h = fc.call(x);\n        return h * h.detach().sign() + h.tril() + torch.sin(torch.arange(4, dtype: h.dtype));")));

    // 4. MultiheadAttention is LRP004.
    [Fact]
    public void Item04_MultiheadAttentionIsLrp004()
    {
        var src = @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private readonly MultiheadAttention mha = nn.MultiheadAttention(4, 2);
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x)
    {
        var (o, w) = mha.call(x, x, x, null, false, null); // here
        return o;
    }
}";
        Assert.Equal(new[] { ("LRP004", DiagnosticSeverity.Error, LineOf(src, "// here")) }, Diagnose(src));
    }

    // 5. Rule attributes on forward: honoured (numbers in HfPortsTests), and misplaced ones are LRP005.
    [Fact]
    public void Item05_NormIdentityOnForwardAcceptsInlineRmsNorm() => Assert.Empty(Diagnose(@"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    public M() : base(""M"") { }
    [NormIdentity]
    public override Tensor forward(Tensor x) => x * x.pow(2).mean(new long[] { -1 }, keepdim: true).add(1e-6).rsqrt();
}"));

    [Fact]
    public void Item05_IdentityNonlinearityOnForwardOfTwoTensorsIsLrp005()
    {
        var src = @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor, Tensor>
{
    public M() : base(""M"") { }
    [IdentityNonlinearity]
    public override Tensor forward(Tensor x, Tensor y) => x * y; // here
}";
        Assert.Contains(Diagnose(src), d => d.Id == "LRP005" && d.Line == LineOf(src, "// here"));
    }

    // 6. A relevance-carrying tensor passed as a child's [NoRelevance] parameter.
    [Fact]
    public void Item06_RelevanceIntoNoRelevanceParameterWarnsLrp011()
    {
        var src = @"
[LrpModule]
public partial class Child : nn.Module<Tensor, Tensor, Tensor>
{
    public Child() : base(""Child"") { }
    public override Tensor forward(Tensor x, [NoRelevance] Tensor m) => x * m;
}
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc = nn.Linear(4, 4);
    private readonly Child c = new Child();
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x) => c.call(x, fc.call(x)); // here
}";
        Assert.Equal(new[] { ("LRP011", DiagnosticSeverity.Warning, LineOf(src, "// here")) }, Diagnose(src));
    }

    // 7. The output is not reached from any relevance input.
    [Fact]
    public void Item07_UnreachedOutputWarnsLrp012()
    {
        var src = Module("        return fc.weight.sum(0) * 2;").Replace("public override Tensor forward(", "public override Tensor forward( // here\n");
        src = src.Replace("( // here\n", "(") .Replace("    public override Tensor forward(Tensor x)", "    public override Tensor forward(Tensor x) // here");
        Assert.Equal(new[] { ("LRP012", DiagnosticSeverity.Warning, LineOf(src, "// here")) }, Diagnose(src));
    }

    // Attention that keeps its full matrix says why (LRP013, info), and only then.
    private const string Attention = @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc = nn.Linear(4, 4);
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x)
    {
        var q = fc.call(x);
        var probs = (q.matmul(x.transpose(-2, -1)) * 0.5).softmax(-1); // here
        return probs.matmul(x)RETURN;
    }
}";

    [Fact]
    public void AttentionWhoseProbabilitiesAreReadElsewhereSaysWhyLrp013()
    {
        var src = Attention.Replace("RETURN", " + probs.sum(-1, keepdim: true)");
        Assert.Equal(new[] { ("LRP013", DiagnosticSeverity.Info, LineOf(src, "// here")) }, Diagnose(src));
        var run = GeneratorHarness.Generate(GeneratorHarness.Compile(("Test.cs", GeneratorHarness.Usings + src)));
        Assert.Contains("the probabilities are read outside softmax(q k^T) v", run.Result.Diagnostics.Single().GetMessage());
    }

    [Fact]
    public void FusedAttentionAndKeepAttentionMatrixReportNothing()
    {
        var fused = Attention.Replace("RETURN", "");
        Assert.Empty(Diagnose(fused));
        var generated = GeneratorHarness.Generate(GeneratorHarness.Compile(("Test.cs", GeneratorHarness.Usings + fused)));
        Assert.Contains("BlockAttention.Forward", generated.Result.GeneratedSources.Single().SourceText.ToString());
        var kept = Attention.Replace("RETURN", " + probs.sum(-1, keepdim: true)").Replace("[LrpModule]", "[LrpModule, KeepAttentionMatrix]");
        Assert.Empty(Diagnose(kept));
    }

    // 8. Hygiene: every generator name as a user name (the numbers: HfPortsTests.GeneratorNamesInUserCode).
    [Theory]
    [InlineData("ctx"), InlineData("tape"), InlineData("output"), InlineData("gOutput"), InlineData("options"), InlineData("all"),
     InlineData("t"), InlineData("frame"), InlineData("gs"), InlineData("ga"), InlineData("gb"), InlineData("g_x"), InlineData("gc_h"),
     InlineData("f0"), InlineData("i0"), InlineData("point0"), InlineData("changed0"), InlineData("gx0"), InlineData("sel0"),
     InlineData("childTape"), InlineData("discarded"), InlineData("v__"), InlineData("lrp_ctx"), InlineData("@checked")]
    public void Item08_GeneratorNamesAsUserNamesCompile(string name) =>
        Assert.Empty(Diagnose(Module($"        var {name} = fc.call(x);\n        foreach (var l in new[] {{ fc }}) {name} = l.call({name}) + x;\n        return nn.functional.silu({name});",
            parameters: $"Tensor x")));

    [Theory]
    [InlineData("ctx"), InlineData("tape"), InlineData("output"), InlineData("options"), InlineData("g_x"), InlineData("f0")]
    public void Item08_GeneratorNamesAsParametersCompile(string name) =>
        Assert.Empty(Diagnose(Module($"        return fc.call(x) * {name};", parameters: $"Tensor x, Tensor {name}", types: "Tensor, Tensor, Tensor")));

    [Fact]
    public void Item08_DeclaringAGeneratedMemberNameIsLrp008() =>
        Assert.Equal("LRP008", Assert.Single(Diagnose(Module("        return fc.call(x);").Replace("    public M()", "    private readonly Linear LrpTape = nn.Linear(4, 4);\n    public M()"))).Id);

    [Theory]
    [InlineData("LrpTape"), InlineData("LrpForward"), InlineData("LrpForwardCore"), InlineData("LrpBackwardCore"), InlineData("LrpFrame0")]
    public void Item08_GeneratedMemberNamesAsParametersCompile(string name) =>
        Assert.Empty(Diagnose(Module($"        foreach (var l in new[] {{ fc }}) x = l.call(x);\n        return fc.call(x) * {name};",
            parameters: $"Tensor x, Tensor {name}", types: "Tensor, Tensor, Tensor")));

    // 10. ?: between tensor arrays is LRP006, not broken generated code.
    [Fact]
    public void Item10_ConditionalBetweenTensorArraysIsLrp006()
    {
        var src = @"
[LrpModule]
public partial class M : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc = nn.Linear(4, 16);
    private readonly bool useSplit = true;
    public M() : base(""M"") { RegisterComponents(); }
    public override Tensor forward(Tensor x)
    {
        var f = fc.call(x);
        var parts = useSplit ? f.split(8, -1) : f.chunk(2, -1); // here
        return parts[0] + parts[1];
    }
}";
        Assert.Equal(new[] { ("LRP006", DiagnosticSeverity.Error, LineOf(src, "// here")) }, Diagnose(src));
    }

    // 11. A null tensor argument (no mask).
    [Fact]
    public void Item11_NullTensorArgumentCompiles() =>
        Assert.Empty(Diagnose(Module("        var h = fc.call(x);\n        return nn.functional.scaled_dot_product_attention(h, h, h, null, 0.0, true);")));

    // 12. h > 0 is a comparison like h.gt(0): a warning on the path, not LRP003.
    [Fact]
    public void Item12_ComparisonOperatorWarnsLikeItsFunction()
    {
        var src = Module("        var h = fc.call(x);\n        return h.masked_fill(h > 0, 0.0); // here");
        Assert.Equal(new[] { ("LRP010", DiagnosticSeverity.Warning, LineOf(src, "// here")) }, Diagnose(src));
        Assert.Empty(Diagnose(Module("        var h = fc.call(x);\n        return h.masked_fill(h.detach() > 0, 0.0);")));
    }

    // 13. Independent errors in one chain are all reported in one build.
    [Fact]
    public void Item13_ErrorsDoNotCascade()
    {
        var src = Module("        var h = fc.call(x).cumsum(1); // a\n        var g = h.log(); // b\n        return g.abs(); // c");
        Assert.Equal(new[]
        {
            ("LRP003", DiagnosticSeverity.Error, LineOf(src, "// a")),
            ("LRP003", DiagnosticSeverity.Error, LineOf(src, "// b")),
            ("LRP003", DiagnosticSeverity.Error, LineOf(src, "// c")),
        }, Diagnose(src));
    }

    // Every descriptor has its documentation page, and LRP004's page lists every supported built-in module.
    [Fact]
    public void EveryDiagnosticHasADocsPage()
    {
        var docs = Path.Combine(RepositoryRoot(), "docs", "diagnostics");
        foreach (var d in Diagnostics.LrpDiagnostics.Descriptors)
            Assert.True(File.Exists(Path.Combine(docs, d.Id + ".md")), $"docs/diagnostics/{d.Id}.md is missing");
        var lrp004 = File.ReadAllText(Path.Combine(docs, "LRP004.md"));
        foreach (var m in Ir.BuiltinModules.All)
            Assert.True(lrp004.Contains($"`{m.Name}`"), $"docs/diagnostics/LRP004.md does not list `{m.Name}`");
    }

    [Fact]
    public void RulesPageListsEveryOpBuiltinModuleAndIdentityFunction()
    {
        var rules = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "rules.md"));
        foreach (var entry in Ir.OpTable.All)
            Assert.True(entry.Docs.Length == 0 || rules.Contains(entry.Docs), $"docs/rules.md does not name the op {entry.Kind} ({entry.Docs})");
        foreach (var m in Ir.BuiltinModules.All)
            Assert.True(rules.Contains(m.Name), $"docs/rules.md does not name the built-in module {m.Name}");
        foreach (var name in Ir.OpTable.IdentityFunctions.Keys)
            Assert.True(rules.Contains(name), $"docs/rules.md does not name the identity-rule function {name}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(System.AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LrpGen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("LrpGen.sln not found above the test assembly");
    }
}
