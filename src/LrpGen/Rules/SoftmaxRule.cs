using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>AttnLRP's softmax rule (first-order Taylor at x) is, in gradient form, the plain gradient.</summary>
public static class SoftmaxRule
{
    /// <summary>g_x = s * (g_s - sum(s * g_s, dim)).</summary>
    public static Tensor Backward(Tensor g, Tensor s, long dim)
    {
        using var sg = s.mul(g);
        using var total = sg.sum(dim, keepdim: true);
        using var centered = g.sub(total);
        return s.mul(centered);
    }
}
