using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Plain adjoints of the element-wise functions a normalisation is written with (rsqrt, sqrt, pow,
/// division). Under <see cref="NormIdentityAttribute"/> the rules treat their outputs as constants, so
/// these run only for the gradient baseline.</summary>
public static class PointwiseAdjoint
{
    /// <summary>y = rsqrt(x): dy/dx = -y^3 / 2.</summary>
    public static Tensor Rsqrt(Tensor g, Tensor y)
    {
        using var cube = y.pow(3);
        return g.mul(cube).mul_(-0.5);
    }

    /// <summary>y = sqrt(x): dy/dx = 1 / (2y).</summary>
    public static Tensor Sqrt(Tensor g, Tensor y) => g.div(y).mul_(0.5);

    /// <summary>y = x^p.</summary>
    public static Tensor Pow(Tensor g, Tensor x, double p)
    {
        using var lower = x.pow(p - 1);
        return g.mul(lower).mul_(p);
    }

    /// <summary>y = a / b, gradient towards b: -g a / b^2, summed to b's shape.</summary>
    public static Tensor DivDenominator(Tensor g, Tensor a, Tensor b)
    {
        using var num = g.mul(a).neg_();
        using var b2 = b.square();
        using var q = num.div(b2);
        return Grad.SumTo(q, b.shape);
    }

    /// <summary>y = a / b, gradient towards a: g / b, summed to a's shape.</summary>
    public static Tensor DivNumerator(Tensor g, Tensor b, long[] aShape)
    {
        using var q = g.div(b);
        return Grad.SumTo(q, aShape);
    }
}
