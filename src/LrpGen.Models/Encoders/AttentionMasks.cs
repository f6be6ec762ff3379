using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Encoders;

/// <summary>The attention mask the encoders take: additive, [B, 1, 1, T], 0 where a key is a token and the
/// dtype's lowest value where it is padding (Hugging Face's extended attention mask).</summary>
public static class AttentionMasks
{
    /// <param name="attentionMask">[B, T]: 1 (or true) for a token, 0 for padding.</param>
    /// <param name="dtype">The encoder's floating type.</param>
    public static Tensor Additive(Tensor attentionMask, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(attentionMask);
        if (attentionMask.dim() != 2)
            throw new ArgumentException($"the attention mask must be [batch, tokens], got [{string.Join(", ", attentionMask.shape)}].", nameof(attentionMask));
        long batch = attentionMask.shape[0], length = attentionMask.shape[1];
        using var scope = torch.NewDisposeScope();
        var padding = attentionMask.eq(0).view(batch, 1, 1, length);
        return torch.zeros(batch, 1, 1, length, dtype, attentionMask.device).masked_fill(padding, MaskValues.Min(dtype)).MoveToOuterDisposeScope();
    }
}
