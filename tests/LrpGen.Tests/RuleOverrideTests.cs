using System;
using System.Collections.Generic;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static LrpGen.Tests.ScenarioHarness;

namespace LrpGen.Tests;

/// <summary>LrpOptions.RuleOverrides: a rule chosen at run time for the sites under a point gives the relevance of
/// the model written with that rule as an attribute, i.e. the autograd reference with that rule injected there.</summary>
public class RuleOverrideTests
{
    private static void AssertPass(Func<LrpOptions, LrpPass> generated, LrpOptions options, Tensor weights, IReadOnlyList<Tensor> expected, string what)
    {
        using var pass = generated(options);
        var relevance = pass.Backward(weights);
        Assert.Equal(expected.Count, relevance.Count);
        for (int i = 0; i < expected.Count; i++) Close.Relative(relevance[i], expected[i], Tolerance, what);
    }

    private static LrpOptions Overrides(LrpMethod method, params (string Pattern, LrpRule Rule)[] rules)
    {
        var map = new Dictionary<string, LrpRule>();
        foreach (var (pattern, rule) in rules) map[pattern] = rule;
        return new LrpOptions { Method = method, RuleOverrides = map };
    }

    [Fact]
    public void CpLrpInOneAttentionModuleOnly()
    {
        torch.manual_seed(9);
        var m = new TinyLm(20, 16, 2).to(F64);
        var ids = torch.tensor(new long[,] { { 3, 1, 4, 1, 5, 9 }, { 2, 6, 5, 3, 5, 8 } });
        var w = Weights(2, 20);
        var r = new RuleInjection(LrpMethod.AttnLrp);
        var e = m.tokens.call(ids);
        // The model with [CpLrp] on the first attention only.
        var expected = RuleInjection.InputTimesGradient(e, emb =>
        {
            var h = emb + m.positions.call(torch.arange(6).unsqueeze(0));
            for (int i = 0; i < 2; i++)
            {
                h = h + ScenarioTests.GqaRef(r, m.attentions[i], h, cpForced: i == 0);
                h = ScenarioTests.ResidualRef(r, m.mlps[i], h);
            }
            return m.head.call(r.LayerNorm(h, m.norm.weight, m.norm.bias, 1e-5))[TensorIndex.Colon, -1];
        }, w).sum(-1);
        AssertPass(o => m.LrpForward(ids, o), Overrides(LrpMethod.AttnLrp, ("attentions.0", LrpRule.CpLrp)), w, new[] { expected }, "CP-LRP in attentions.0");
        // And the other way round: CP-LRP as the method, AttnLRP's rules inside the second attention.
        var cp = new RuleInjection(LrpMethod.CpLrp);
        var mixed = RuleInjection.InputTimesGradient(e, emb =>
        {
            var h = emb + m.positions.call(torch.arange(6).unsqueeze(0));
            for (int i = 0; i < 2; i++)
            {
                h = h + ScenarioTests.GqaRef(i == 1 ? r : cp, m.attentions[i], h);
                h = ScenarioTests.ResidualRef(cp, m.mlps[i], h);
            }
            return m.head.call(cp.LayerNorm(h, m.norm.weight, m.norm.bias, 1e-5))[TensorIndex.Colon, -1];
        }, w).sum(-1);
        AssertPass(o => m.LrpForward(ids, o), Overrides(LrpMethod.CpLrp, ("attentions.1", LrpRule.AttnLrp)), w, new[] { mixed }, "AttnLRP in attentions.1 under CP-LRP");
    }

    [Fact]
    public void EpsilonPerLayerPathAndGradientInTheFirstBlock()
    {
        torch.manual_seed(8);
        var m = new BlockStack(8, 12, 3).to(F64);
        var x = Randn(2, 4, 8);
        var w = Weights(2, 4, 8);
        var r = new RuleInjection(LrpMethod.AttnLrp);
        var gradient = new RuleInjection(LrpMethod.Gradient);
        // The model with [EpsilonRule(0.1)] on every fc2 and the plain gradient in its first block.
        var expected = Ref(x, w, v =>
        {
            var h = v;
            for (int i = 0; i < 3; i++)
            {
                var b = m.blocks[i];
                var rb = i == 0 ? gradient : r;
                var hidden = rb.Identity(t => nn.functional.gelu(t), b.fc1.call(rb.LayerNorm(h, b.ln.weight, b.ln.bias, 1e-5)));
                h = h + rb.Epsilon(b.fc2.call(hidden), 0.1);
            }
            return r.LayerNorm(h, m.final.weight, m.final.bias, 1e-5);
        });
        AssertPass(o => m.LrpForward(x, o),
            Overrides(LrpMethod.AttnLrp, ("blocks.*.fc2", LrpRule.Epsilon(0.1)), ("blocks.0", LrpRule.Gradient)), w, expected, "epsilon 0.1 on fc2, gradient in blocks.0");
    }

    [Fact]
    public void GammaOverrideAtAPathEqualsTheGammaOfItsType()
    {
        torch.manual_seed(43);
        var m = new GammaNet().to(ScalarType.Float64);
        var x = torch.randn(1, 2, 4, 4, ScalarType.Float64);
        var w = torch.randn(1, 5, ScalarType.Float64);
        using var byType = m.LrpForward(x, new LrpOptions { GammaOverrides = new Dictionary<Type, double> { [typeof(TorchSharp.Modules.Conv2d)] = 0.5 } });
        var expected = byType.Backward(w);
        AssertPass(o => m.LrpForward(x, o), Overrides(LrpMethod.AttnLrp, ("conv", LrpRule.Gamma(0.5))), w, expected, "gamma 0.5 at conv");
    }

    [Fact]
    public void AnOverrideThatMatchesNoPointOrTwoThatDisagreeIsAnError()
    {
        torch.manual_seed(8);
        var m = new BlockStack(8, 12, 2).to(F64);
        var x = Randn(2, 4, 8);
        var none = Assert.Throws<ArgumentException>(() => m.LrpForward(x, Overrides(LrpMethod.AttnLrp, ("layers.0", LrpRule.Gradient))).Dispose());
        Assert.Contains("'layers.0' matched no point", none.Message);
        var clash = Assert.Throws<ArgumentException>(() =>
            m.LrpForward(x, Overrides(LrpMethod.AttnLrp, ("blocks.0.fc1", LrpRule.Epsilon(0.1)), ("**.fc1", LrpRule.Gamma(0.2)))).Dispose());
        Assert.Contains("both match the point 'blocks.0.fc1'", clash.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LrpRule.Epsilon(-1));
    }
}
