using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Exact adjoints of operations that pick or mask elements without changing them: the gradient goes back
/// to the picked elements only. Each borrows g and returns a tensor the caller owns.</summary>
public static class SelectionAdjoint
{
    /// <summary>The values of a (values, indices) pair (max/min/sort/topk/median/mode/kthvalue/cummax along a dim);
    /// the indices go to <paramref name="indices"/>, owned by the caller.</summary>
    public static Tensor Values((Tensor Values, Tensor Indices) pair, out Tensor indices)
    {
        indices = pair.Indices;
        return pair.Values;
    }

    /// <summary>The indices of a (values, indices) pair; the values are released.</summary>
    public static Tensor Indices((Tensor Values, Tensor Indices) pair)
    {
        pair.Values.Dispose();
        return pair.Indices;
    }

    /// <summary>values = input.gather(dim, indices) (the reduced dim removed unless kept): g scattered back to the
    /// elements that were picked; an element picked twice (never, for these ops) would accumulate.</summary>
    public static Tensor Gathered(Tensor g, Tensor indices, long dim, long[] inputShape)
    {
        long d = Seeds.Dim(dim, inputShape.Length);
        bool reduced = g.dim() < inputShape.Length + 1;
        using var gk = reduced ? g.unsqueeze(d) : g.alias();
        // The indices are the forward's: the same for every seed (a broadcast view, not a copy).
        using var ik = reduced ? indices.unsqueeze(d - 1) : indices.alias();
        using var seeded = ik.unsqueeze(0);
        using var everySeed = seeded.expand(gk.shape);
        var z = Seeds.Zeros(g, inputShape);
        z.scatter_add_(d, everySeed, gk);
        return z;
    }

    /// <summary>where(condition, a, b): a gets g where the condition holds, b elsewhere (summed to their shapes).</summary>
    public static Tensor WhereBranch(Tensor g, Tensor condition, long[] branchShape, bool whereTrue)
    {
        using var zero = torch.zeros(1, g.dtype, g.device);
        using var picked = whereTrue ? torch.where(condition, g, zero) : torch.where(condition, zero, g);
        return Grad.SumTo(picked, branchShape);
    }

    /// <summary>select(dim, index): g placed back at the index.</summary>
    public static Tensor Select(Tensor g, long dim, long index, long[] inputShape)
    {
        var z = Seeds.Zeros(g, inputShape);
        using (var slot = z.select(Seeds.Dim(dim), index)) slot.copy_(g);
        return z;
    }

    /// <summary>tril / triu(diagonal): the same triangle of g.</summary>
    public static Tensor Triangle(Tensor g, bool upper, long diagonal) => upper ? g.triu(diagonal) : g.tril(diagonal);

    /// <summary>stack(tensors, dim): the slice of g belonging to input i.</summary>
    public static Tensor StackPart(Tensor g, long dim, int part)
    {
        using var slice = g.select(Seeds.Dim(dim), part);
        return slice.contiguous();
    }
}
