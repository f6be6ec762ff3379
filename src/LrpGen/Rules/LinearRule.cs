using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Epsilon rule for y = x W^T + b (Linear, functional linear), in gradient form.</summary>
public static class LinearRule
{
    /// <summary>g_x = (g_y * y / (y + eps*sign(y))) W; with eps = 0 (LXT) the plain gradient g_y W.
    /// <paramref name="output"/> is needed only when eps &gt; 0.</summary>
    public static Tensor Backward(LrpContext ctx, Tensor g, Tensor weight, Tensor? output, double epsilon)
    {
        if (epsilon > 0 && ctx.RulesActive)
        {
            if (output is null) throw new System.ArgumentNullException(nameof(output), "The epsilon rule with eps > 0 needs the layer output.");
            using var stab = Stabilize(output, epsilon);
            using var scaled = g.mul(output).div_(stab);
            return MatmulWeight(scaled, weight);
        }
        return MatmulWeight(g, weight);
    }

    /// <summary>The rule resolved for this pass (<see cref="LrpContext.LayerRule"/>): gamma or epsilon. The tape keeps
    /// <paramref name="input"/> and <paramref name="output"/> only when the rule reads them.</summary>
    public static Tensor Backward(LrpContext ctx, Tensor g, LrpLayerRule rule, Tensor weight, Tensor? bias, Tensor? input, Tensor? output) =>
        rule.Gamma is double gamma
            ? GammaRule.LinearBackward(ctx, g, input ?? throw new System.ArgumentNullException(nameof(input), "The gamma rule needs the layer input."),
                weight, bias, output ?? throw new System.ArgumentNullException(nameof(output), "The gamma rule needs the layer output."), gamma)
            : Backward(ctx, g, weight, output, rule.Epsilon);

    /// <summary>g W, with W cast to g's dtype only when they differ (half-precision models, float32 relevance).</summary>
    internal static Tensor MatmulWeight(Tensor g, Tensor weight)
    {
        if (weight.dtype == g.dtype) return g.matmul(weight);
        using var w = weight.to(g.dtype);
        return g.matmul(w);
    }

    /// <summary>y + eps * sign(y), with sign(0) taken as +1 so zero outputs never divide by zero.</summary>
    public static Tensor Stabilize(Tensor y, double epsilon)
    {
        using var nonNegative = y.ge(0);
        using var shift = nonNegative.to(y.dtype);
        shift.mul_(2 * epsilon).sub_(epsilon); // +eps where y >= 0, -eps elsewhere
        return y.add(shift);
    }
}
