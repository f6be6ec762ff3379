using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>The constant inputs of a batch of right-padded sentences: the attention mask [B, T] (1 = token, 0 =
/// padding), its additive form for attention scores [B, 1, 1, T], and the pooling constants of
/// <see cref="SentenceHead"/>: token weights [B, T] and the max mask [B, T].</summary>
public sealed class EncoderBatch : IDisposable
{
    /// <summary>Sentence-transformers' value for padded states before max pooling.</summary>
    public const double MaxPoolingPadding = -1e9;

    private EncoderBatch(Tensor attentionMask, Tensor additiveMask, Tensor tokenWeights, Tensor maxMask)
    {
        AttentionMask = attentionMask;
        AdditiveMask = additiveMask;
        TokenWeights = tokenWeights;
        MaxMask = maxMask;
    }

    public Tensor AttentionMask { get; }
    public Tensor AdditiveMask { get; }
    public Tensor TokenWeights { get; }
    public Tensor MaxMask { get; }

    public long Batch => AttentionMask.shape[0];
    public long Length => AttentionMask.shape[1];

    /// <summary>From an attention mask [B, T] (int64, right padding: each row's ones first).</summary>
    public static EncoderBatch FromMask(Tensor attentionMask, PoolingMode pooling, ScalarType dtype, Device device)
    {
        if (attentionMask.dim() != 2)
            throw new ArgumentException($"the attention mask must be [batch, tokens], got [{string.Join(", ", attentionMask.shape)}].", nameof(attentionMask));
        using var scope = torch.NewDisposeScope();
        var mask = attentionMask.to(ScalarType.Int64, device);
        long batch = mask.shape[0], length = mask.shape[1];
        var real = mask.ne(0);
        var counts = mask.sum(1, keepdim: true);
        if (counts.min().item<long>() < 1)
            throw new ArgumentException("every sentence needs at least one token in the attention mask.", nameof(attentionMask));
        var additive = torch.zeros(batch, 1, 1, length, dtype, device).masked_fill(real.logical_not().view(batch, 1, 1, length), MaskValues.Min(dtype));
        var floatMask = real.to(dtype);
        Tensor weights = pooling switch
        {
            PoolingMode.Mean => floatMask / counts.to(dtype),
            PoolingMode.Cls => torch.nn.functional.one_hot(torch.zeros(batch, ScalarType.Int64, device), length).to(dtype),
            PoolingMode.LastToken => torch.nn.functional.one_hot(counts.squeeze(1) - 1, length).to(dtype),
            _ => torch.zeros(batch, length, dtype, device),
        };
        var maxMask = torch.zeros(batch, length, dtype, device).masked_fill(real.logical_not(), MaxPoolingPadding);
        return new EncoderBatch(mask.MoveToOuterDisposeScope(), additive.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope(),
            maxMask.MoveToOuterDisposeScope());
    }

    /// <summary>No padding: <paramref name="batch"/> rows of <paramref name="length"/> tokens each.</summary>
    public static EncoderBatch Unpadded(long batch, long length, PoolingMode pooling, ScalarType dtype, Device device)
    {
        using var ones = torch.ones(batch, length, ScalarType.Int64, device);
        return FromMask(ones, pooling, dtype, device);
    }

    public void Dispose()
    {
        AttentionMask.Dispose();
        AdditiveMask.Dispose();
        TokenWeights.Dispose();
        MaxMask.Dispose();
    }
}
