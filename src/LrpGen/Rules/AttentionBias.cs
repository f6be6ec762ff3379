using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>The additive bias scaled_dot_product_attention applies to the scores (a constant: no relevance).</summary>
public static class AttentionBias
{
    /// <summary>For the scores of query @ key^T. A boolean mask keeps True positions (PyTorch's semantics), a float mask is added, is_causal masks
    /// the future; masked positions get -inf.</summary>
    public static Tensor For(Tensor query, Tensor key, Tensor? mask, bool causal)
    {
        long l = query.shape[query.dim() - 2], s = key.shape[key.dim() - 2];
        var scores = query;
        var bias = TorchSharp.torch.zeros(new[] { l, s }, scores.dtype, scores.device);
        if (causal)
        {
            using var ones = TorchSharp.torch.ones(new[] { l, s }, ScalarType.Bool, scores.device);
            using var future = ones.triu(1);
            bias.masked_fill_(future, double.NegativeInfinity);
        }
        if (mask is null) return bias;
        if (mask.dtype == ScalarType.Bool)
        {
            using var blocked = mask.logical_not();
            var masked = bias.masked_fill(blocked, double.NegativeInfinity);
            bias.Dispose();
            return masked;
        }
        using var typed = mask.to(scores.dtype);
        var sum = bias.add(typed);
        bias.Dispose();
        return sum;
    }
}
