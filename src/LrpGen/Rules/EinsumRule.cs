using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>torch.einsum of one or two operands. One operand: a linear map, its exact adjoint. Two: a product,
/// split between the factors as <see cref="ProductRule.Shares"/> says (uniform 1/2 each under AttnLRP, a gate
/// constant under CP-LRP, the plain gradient to the only factor on the path).</summary>
/// <remarks>The adjoint of an arbitrary equation (repeated indices, summed-out indices, ellipses, broadcasting) is
/// taken from autograd on the saved operands: exact for every equation einsum accepts, at the cost of recomputing
/// the einsum once in the backward.</remarks>
public static class EinsumRule
{
    public static (Tensor? A, Tensor? B) Backward(LrpContext ctx, Tensor g, string equation, Tensor a, Tensor? b,
        bool aOnPath, bool bOnPath, bool aIsGate, bool bIsGate, bool cpForced)
    {
        var (fa, fb) = b is null ? (aOnPath ? 1.0 : 0.0, 0.0) : ProductRule.Shares(ctx, aOnPath, bOnPath, aIsGate, bIsGate, cpForced);
        if (fa == 0 && fb == 0) return (null, null);
        // A dispose scope collects the leaves, the recomputed einsum and the gradient handles; the results leave it.
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        var la = a.detach().to(g.dtype).requires_grad_(fa != 0);
        var lb = b?.detach().to(g.dtype).requires_grad_(fb != 0);
        var y = lb is null ? torch.einsum(equation, la) : torch.einsum(equation, la, lb);
        y.backward(new[] { g });
        return (Take(la, fa), lb is null ? null : Take(lb, fb));
    }

    private static Tensor? Take(Tensor leaf, double share)
    {
        if (share == 0 || leaf.grad is not { } grad) return null;
        return (share == 1 ? grad.clone() : grad.mul(share)).MoveToOuterDisposeScope();
    }
}
