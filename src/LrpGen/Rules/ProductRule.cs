using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>How relevance is split over the two factors of a product (element-wise or matmul).</summary>
public static class ProductRule
{
    /// <summary>The factors (fa, fb) each factor's plain gradient is multiplied by.
    /// Gradient: (1, 1). One factor off the relevance path: it gets nothing, the other 1.
    /// Uniform rule (AttnLRP): (1/2, 1/2). CP-LRP (run time or forced): a gate (a softmax or
    /// activation output) is a constant: (0, 1) or (1, 0); when the gate is ambiguous, uniform.</summary>
    public static (double A, double B) Shares(LrpContext ctx, bool aOnPath, bool bOnPath, bool aIsGate, bool bIsGate, bool cpForced)
    {
        if (!aOnPath && !bOnPath) return (0, 0);
        if (!aOnPath) return (0, 1);
        if (!bOnPath) return (1, 0);
        if (!ctx.RulesActive) return (1, 1);
        if (ctx.GatesAreConstant(cpForced) && aIsGate != bIsGate)
            return aIsGate ? (0, 1) : (1, 0);
        return (0.5, 0.5);
    }

    /// <summary>y = a * b (element-wise, broadcasting).</summary>
    /// <remarks>a is needed only when b receives relevance, and vice versa.</remarks>
    public static (Tensor? A, Tensor? B) ElementwiseBackward(LrpContext ctx, Tensor g, Tensor? a, Tensor? b,
        long[] aShape, long[] bShape, bool aOnPath, bool bOnPath, bool aIsGate, bool bIsGate, bool cpForced)
    {
        var (fa, fb) = Shares(ctx, aOnPath, bOnPath, aIsGate, bIsGate, cpForced);
        Tensor? ga = null, gb = null;
        if (fa != 0)
        {
            using var other = Typed(b ?? throw Missing(nameof(b)), g);
            ga = Grad.MulSumTo(g, other, aShape, fa);
        }
        if (fb != 0)
        {
            using var other = Typed(a ?? throw Missing(nameof(a)), g);
            gb = Grad.MulSumTo(g, other, bShape, fb);
        }
        return (ga, gb);
    }

    /// <summary>The other factor in g's dtype (a gradient may be float32 where a factor is half precision).</summary>
    private static Tensor Typed(Tensor factor, Tensor g) => factor.dtype == g.dtype ? factor.alias() : factor.to(g.dtype);

    private static System.InvalidOperationException Missing(string factor) =>
        new($"LrpGen: the product rule needs factor '{factor}', which the forward did not keep.");

    /// <summary>Y = A @ B (torch.matmul semantics for rank &gt;= 2, broadcasting batch dimensions).</summary>
    public static (Tensor? A, Tensor? B) MatmulBackward(LrpContext ctx, Tensor g, Tensor? a, Tensor? b,
        long[] aShape, long[] bShape, bool aOnPath, bool bOnPath, bool aIsGate, bool bIsGate, bool cpForced)
    {
        if (aShape.Length < 2 || bShape.Length < 2)
            throw new System.NotSupportedException("LrpGen: matmul with a 1-D operand is not supported in a relevance path; unsqueeze it first.");
        var (fa, fb) = Shares(ctx, aOnPath, bOnPath, aIsGate, bIsGate, cpForced);
        Tensor? ga = null, gb = null;
        if (fa != 0)
        {
            using var typed = Typed(b ?? throw Missing(nameof(b)), g);
            using var bt = typed.transpose(-2, -1);
            using var full = Seeds.MatmulLeft(g, bt);
            if (fa != 1) full.mul_(fa);
            ga = Grad.SumTo(full, aShape);
        }
        if (fb != 0)
        {
            using var typed = Typed(a ?? throw Missing(nameof(a)), g);
            using var at = typed.transpose(-2, -1);
            using var full = Seeds.MatmulRight(at, g);
            if (fb != 1) full.mul_(fb);
            gb = Grad.SumTo(full, bShape);
        }
        return (ga, gb);
    }
}
