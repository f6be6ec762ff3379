using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>AttnLRP's softmax rule (first-order Taylor at x) is, in gradient form, the plain gradient.</summary>
public static class SoftmaxRule
{
    /// <summary>g_x = s * (g_s - sum(s * g_s, dim)).</summary>
    /// <remarks>When the softmax was computed in another dtype (softmax(dim, float32) in a half-precision model),
    /// <paramref name="inputType"/> brings g back to the scores' dtype.</remarks>
    public static Tensor Backward(Tensor g, Tensor s, long dim, ScalarType? inputType = null)
    {
        using var typed = g.dtype == s.dtype ? g.alias() : g.to(s.dtype);
        // s * (g - sum(s g)) = s g - s sum(s g): one [.., T, T] temporary fewer than centring g first.
        var result = s.mul(typed);
        using (var total = result.sum(Seeds.Dim(dim), keepdim: true))
            result.addcmul_(s, total, -1);
        if (inputType is not { } t || t == result.dtype) return result;
        var converted = result.to(t);
        result.Dispose();
        return converted;
    }
}
