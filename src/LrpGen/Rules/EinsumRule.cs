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
        // Every operand is broadcast over the seed dimension (a view) and the equation gets a seed index on each
        // term, so autograd returns each operand's gradient per seed.
        var la = Leaf(a, g, fa != 0);
        var lb = b is null ? null : Leaf(b, g, fb != 0);
        string seeded = SeededEquation(equation);
        var y = lb is null ? torch.einsum(seeded, la) : torch.einsum(seeded, la, lb);
        y.backward(new[] { g });
        return (Take(la, fa), lb is null ? null : Take(lb, fb));
    }

    private static Tensor Leaf(Tensor operand, Tensor g, bool needsGradient)
    {
        var typed = operand.detach().to(g.dtype);
        var shape = Seeds.Shape(g, typed.shape);
        return typed.unsqueeze(0).expand(shape).requires_grad_(needsGradient);
    }

    /// <summary>The equation with one more index, unused by it, leading every operand and the output
    /// ("bqd,bkd->bqk" becomes "Abqd,Abkd->Abqk"); an implicit output is made explicit first (the indices that
    /// occur once, in alphabetical order, after the ellipsis), as einsum defines it.</summary>
    internal static string SeededEquation(string equation)
    {
        string compact = equation.Replace(" ", "");
        int arrow = compact.IndexOf("->", System.StringComparison.Ordinal);
        string lhs = arrow >= 0 ? compact.Substring(0, arrow) : compact;
        string rhs = arrow >= 0 ? compact.Substring(arrow + 2) : ImplicitOutput(lhs);
        char seed = UnusedIndex(compact);
        var terms = lhs.Split(',');
        for (int i = 0; i < terms.Length; i++) terms[i] = seed + terms[i];
        return string.Join(",", terms) + "->" + seed + rhs;
    }

    private static string ImplicitOutput(string lhs)
    {
        var counts = new System.Collections.Generic.SortedDictionary<char, int>(System.Collections.Generic.Comparer<char>.Create((x, y) => x.CompareTo(y)));
        foreach (char c in lhs)
            if (char.IsLetter(c)) counts[c] = counts.TryGetValue(c, out var n) ? n + 1 : 1;
        var sb = new System.Text.StringBuilder(lhs.Contains("...") ? "..." : "");
        foreach (var kv in counts) if (kv.Value == 1) sb.Append(kv.Key);
        return sb.ToString();
    }

    private static char UnusedIndex(string equation)
    {
        foreach (char c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            if (equation.IndexOf(c) < 0) return c;
        throw new System.NotSupportedException("LrpGen: an einsum equation that uses all 52 indices leaves none for the seed dimension; split the einsum.");
    }

    private static Tensor? Take(Tensor leaf, double share)
    {
        if (share == 0 || leaf.grad is not { } grad) return null;
        return (share == 1 ? grad.clone() : grad.mul(share)).MoveToOuterDisposeScope();
    }
}
