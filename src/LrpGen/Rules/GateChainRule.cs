using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>A product <c>act(x) * other</c> followed, backwards, by the activation's identity rule (a gated MLP):
/// the activation's input gradient is <c>g * share * other * scale</c>, where only <c>g</c> is unknown in the
/// forward. Keeping <c>share * other * scale</c> as one tensor saves one tensor of the product's size per block and
/// two element-wise kernels in the backward (docs/performance.md, proposal 4). The generator emits these calls only
/// where the gate and the other factor are read by the product alone.</summary>
public static class GateChainRule
{
    /// <summary>Called after the product in the forward: returns <c>share * other * scale</c> (in float32 at least, as
    /// the gradients are) and disposes <paramref name="scale"/> and <paramref name="other"/>; or returns null and
    /// leaves both to the general backward step when either is missing, the factors broadcast (then the gate's share is
    /// summed over the broadcast dimensions, which a product kept in advance cannot do), or the gate's share is 0.</summary>
    public static Tensor? Fold(LrpContext ctx, ref Tensor? scale, ref Tensor? other, Tensor gate, int gateIndex,
        bool aOnPath, bool bOnPath, bool aIsGate, bool bIsGate, bool cpForced)
    {
        if (scale is null || other is null || !gate.shape.SequenceEqual(other.shape) || !scale.shape.SequenceEqual(gate.shape)) return null;
        var (fa, fb) = ProductRule.Shares(ctx, aOnPath, bOnPath, aIsGate, bIsGate, cpForced);
        double share = gateIndex == 0 ? fa : fb;
        if (share == 0) return null;
        using var wide = AtLeastFloat32(other);
        var folded = share == 1 ? wide.mul(scale) : wide.mul(share).mul_(scale);
        scale.Dispose();
        scale = null;
        other.Dispose();
        other = null;
        return folded;
    }

    /// <summary>The product's backward step once folded: the activation's input gradient <c>g * folded</c> (the
    /// activation's own step then receives nothing) and the other factor's share, as
    /// <see cref="ProductRule.ElementwiseBackward"/> computes it.</summary>
    public static (Tensor Input, Tensor? Other) Backward(LrpContext ctx, Tensor g, Tensor folded, Tensor? gate, long[] otherShape, int gateIndex,
        bool aOnPath, bool bOnPath, bool aIsGate, bool bIsGate, bool cpForced)
    {
        var (fa, fb) = ProductRule.Shares(ctx, aOnPath, bOnPath, aIsGate, bIsGate, cpForced);
        double otherShare = gateIndex == 0 ? fb : fa;
        var input = g.mul(folded);
        if (otherShare == 0) return (input, null);
        if (gate is null)
        {
            input.Dispose();
            throw new System.InvalidOperationException("LrpGen: the product rule needs the gate factor, which the forward did not keep.");
        }
        using var typed = gate.dtype == g.dtype ? gate.alias() : gate.to(g.dtype);
        return (input, Grad.MulSumTo(g, typed, otherShape, otherShare));
    }

    private static Tensor AtLeastFloat32(Tensor t) =>
        t.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? t.to(ScalarType.Float32) : t.alias();
}
