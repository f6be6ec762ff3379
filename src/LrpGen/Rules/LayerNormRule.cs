using System;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>LayerNorm y = w * (x - mean) / std + b over the last <c>normalizedDims</c> dimensions.
/// Rules: identity on 1/std (a constant), epsilon (eps 0) on the centring: c = g*w/std, g_x = c - mean(c).
/// Gradient: the full derivative, std included.</summary>
public static class LayerNormRule
{
    public static Tensor Backward(LrpContext ctx, Tensor g, Tensor x, Tensor? weight, double eps, int normalizedDims)
    {
        // Counted from the end: the same dims of x and of g (which has the leading seed dimension).
        var dims = new long[normalizedDims];
        for (int i = 0; i < normalizedDims; i++) dims[i] = i - normalizedDims;
        using var mean = x.mean(dims, keepdim: true);
        using var centered = x.sub(mean);
        using var squared = centered.square();
        using var variance = squared.mean(dims, keepdim: true);
        using var invStd = variance.add(eps).rsqrt_();
        using var gw = weight is null ? g.alias() : MulWeight(g, weight);
        using var c = gw.mul(invStd);
        using var cMean = c.mean(dims, keepdim: true);
        if (ctx.RulesActive) return c.sub(cMean);

        using var xhat = centered.mul(invStd);
        using var cxhat = c.mul(xhat);
        using var cx = cxhat.mean(dims, keepdim: true);
        using var proj = xhat.mul(cx);
        using var gx = c.sub(cMean);
        return gx.sub(proj);
    }

    private static Tensor MulWeight(Tensor g, Tensor weight)
    {
        if (weight.dtype == g.dtype) return g.mul(weight);
        using var w = weight.to(g.dtype);
        return g.mul(w);
    }

    /// <summary>The number of trailing dimensions normalised, from a normalized_shape.</summary>
    public static int Dims(long[] normalizedShape) =>
        normalizedShape.Length > 0 ? normalizedShape.Length : throw new ArgumentException("LayerNorm with an empty normalized_shape.");
}
