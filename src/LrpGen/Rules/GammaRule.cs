using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>The generalised Gamma rule (zennit, LXT's ViT recipe) for y = W x + b, in gradient form.
/// See docs: Wp = W + gamma max(W,0), Wn = W + gamma min(W,0) (likewise bp, bn), xp = max(x,0), xn = min(x,0);
/// positive outputs use o1 = Wp xp + bp + Wn xn, negative ones o2 = Wn xp + bn + Wp xn.</summary>
public static class GammaRule
{
    public static Tensor LinearBackward(LrpContext ctx, Tensor g, Tensor x, Tensor weight, Tensor? bias, Tensor y, double gamma)
    {
        if (!ctx.RulesActive) return LinearRule.MatmulWeight(g, weight);
        return Backward(g, x, y, weight, bias, gamma,
            (input, w, b) => torch.nn.functional.linear(input, w, b),
            (m, w) => m.matmul(w));
    }

    /// <summary>The Gamma rule for Conv2d: the same formula with W x read as the convolution and W^T m as the
    /// transposed convolution.</summary>
    public static Tensor Conv2dBackward(LrpContext ctx, Tensor g, Tensor x, TorchSharp.Modules.Conv2d conv, Tensor y, double gamma)
    {
        if (!ctx.RulesActive) return ConvRule.TransposedConv(g, conv, x.shape);
        return Backward(g, x, y, conv.weight!, conv.bias, gamma,
            (input, w, b) => torch.nn.functional.conv2d(input, w, b, conv.stride, conv.padding, conv.dilation, conv.groups),
            (m, w) => ConvRule.TransposedConv(m, conv, x.shape, w));
    }

    /// <summary>The rule for any layer given its forward (W x + b) and its transpose (W^T m).</summary>
    private static Tensor Backward(Tensor g, Tensor x, Tensor y, Tensor weight, Tensor? bias, double gamma,
        System.Func<Tensor, Tensor, Tensor?, Tensor> forward, System.Func<Tensor, Tensor, Tensor> transpose)
    {
        using var scope = torch.NewDisposeScope();
        var w = weight.to(g.dtype);
        var b = bias?.to(g.dtype);
        var wp = w.add(w.clamp_min(0).mul(gamma));
        var wn = w.add(w.clamp_max(0).mul(gamma));
        var xp = x.clamp_min(0);
        var xn = x.clamp_max(0);
        var r = g.mul(y);
        var positive = forward(xp, wp, b is null ? null : b.add(b.clamp_min(0).mul(gamma))).add(forward(xn, wn, null));
        var negative = forward(xp, wn, b is null ? null : b.add(b.clamp_max(0).mul(gamma))).add(forward(xn, wp, null));
        var m1 = r.mul(y.gt(0)).div(Stabilize(positive));
        var m2 = r.mul(y.lt(0)).div(Stabilize(negative));
        var rx = xp.mul(transpose(m1, wp)).add(xn.mul(transpose(m1, wn))).add(xp.mul(transpose(m2, wn))).add(xn.mul(transpose(m2, wp)));
        var gx = rx.div(Stabilize(x, 1e-10));
        return gx.MoveToOuterDisposeScope();
    }

    /// <summary>d + eps * sign(d), with sign(0) = +1.</summary>
    public static Tensor Stabilize(Tensor d, double epsilon = 1e-6) => LinearRule.Stabilize(d, epsilon);
}
