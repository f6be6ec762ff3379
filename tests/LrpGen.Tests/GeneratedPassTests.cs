using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

public class GatedMlpTests
{
    [Theory]
    [InlineData(LrpMethod.AttnLrp)]
    [InlineData(LrpMethod.CpLrp)]
    [InlineData(LrpMethod.Gradient)]
    public void MatchesReference(LrpMethod method)
    {
        torch.manual_seed(1);
        var m = new GatedMlp(8, 12).to(ScalarType.Float64);
        var x = torch.randn(2, 5, 8, ScalarType.Float64);
        torch.manual_seed(7);
        var w = torch.randn(2, 5, 8, ScalarType.Float64);
        ScenarioHarness.Check(
            o => m.LrpForward(x, o),
            () => m.call(x),
            r => new[] { RuleInjection.InputTimesGradient(x, v =>
                m.down_proj.call(r.GatedProduct(r.Identity(t => nn.functional.silu(t), m.gate_proj.call(v)), m.up_proj.call(v))), w) },
            method, nameof(GatedMlp));
    }
}

/// <summary>The gated MLP with a gate of width 1 (broadcast over the up projection): the tape keeps the factors
/// themselves, not their product, and the pass still matches the reference.</summary>
public class BroadcastGatedMlpTests
{
    [Theory]
    [InlineData(LrpMethod.AttnLrp)]
    [InlineData(LrpMethod.CpLrp)]
    [InlineData(LrpMethod.Gradient)]
    public void MatchesReference(LrpMethod method)
    {
        torch.manual_seed(2);
        var m = new BroadcastGatedMlp(8, 12).to(ScalarType.Float64);
        var x = torch.randn(2, 5, 8, ScalarType.Float64);
        torch.manual_seed(8);
        var w = torch.randn(2, 5, 8, ScalarType.Float64);
        ScenarioHarness.Check(
            o => m.LrpForward(x, o),
            () => m.call(x),
            r => new[] { RuleInjection.InputTimesGradient(x, v =>
                m.down_proj.call(r.GatedProduct(r.Identity(t => nn.functional.silu(t), m.gate_proj.call(v)), m.up_proj.call(v))), w) },
            method, nameof(BroadcastGatedMlp), seed: 8);
    }
}
