using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>Where every rule conserves (no biases, eps 0, identity and uniform rules, CP-LRP through attention),
/// the input relevance sums to sum(weights * output).</summary>
public class ConservationTests
{
    private static void AssertConserved(LrpPass pass, Tensor relevance, Tensor weights, string what)
    {
        double total = relevance.sum().item<double>();
        double explained = pass.Output.mul(weights).sum().item<double>();
        Assert.True(System.Math.Abs(total - explained) <= 1e-9 * System.Math.Max(1, System.Math.Abs(explained)),
            $"{what}: sum of relevance {total} != explained quantity {explained}");
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp)]
    public void GatedMlpConserves(LrpMethod method)
    {
        torch.manual_seed(21);
        var m = new GatedMlp(8, 16).to(ScalarType.Float64);
        var x = torch.randn(3, 8, ScalarType.Float64);
        var w = torch.randn(3, 8, ScalarType.Float64);
        using var pass = m.LrpForward(x, new LrpOptions { Method = method });
        AssertConserved(pass, pass.Backward(w)[0], w, nameof(GatedMlp));
    }

    [Fact]
    public void BiasFreeChainConservesUnderAttnLrp()
    {
        torch.manual_seed(22);
        var m = new LinearChain(6, 10, 3, bias: false).to(ScalarType.Float64);
        var x = torch.randn(4, 6, ScalarType.Float64);
        var w = torch.randn(4, 3, ScalarType.Float64);
        using var pass = m.LrpForward(x);
        AssertConserved(pass, pass.Backward(w)[0], w, nameof(LinearChain));
    }

    [Fact]
    public void GqaAttentionConservesUnderCpLrp()
    {
        // CP-LRP: attention weights are constants, the rest is bias-free and linear: conservative.
        torch.manual_seed(23);
        var m = new GqaAttention(16, 4, 2).to(ScalarType.Float64);
        var x = torch.randn(1, 5, 16, ScalarType.Float64);
        var w = torch.randn(1, 5, 16, ScalarType.Float64);
        using var pass = m.LrpForward(x, new LrpOptions { Method = LrpMethod.CpLrp });
        AssertConserved(pass, pass.Backward(w)[0], w, nameof(GqaAttention));
    }

    [Fact]
    public void GradientBaselineDoesNotConserveThroughGelu()
    {
        // A check that the conservation assertion can fail: input x gradient through a non-linearity does not conserve.
        torch.manual_seed(24);
        var m = new LinearChain(6, 10, 3, bias: false).to(ScalarType.Float64);
        var x = torch.randn(4, 6, ScalarType.Float64);
        var w = torch.randn(4, 3, ScalarType.Float64);
        using var pass = m.LrpForward(x, new LrpOptions { Method = LrpMethod.Gradient });
        double total = pass.Backward(w)[0].sum().item<double>();
        double explained = pass.Output.mul(w).sum().item<double>();
        Assert.True(System.Math.Abs(total - explained) > 1e-3, "gradient x input unexpectedly conserved");
    }
}
