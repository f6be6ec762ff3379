using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>The constant inputs of a decoder forward for a (possibly padded) batch. The rotary families' modules take
/// the stacked tables, one entry per kind of layer: <see cref="LayerCos"/>/<see cref="LayerSin"/> [R, B, 1, T, D]
/// (0: global RoPE, 1: the local base of sliding-window layers) and <see cref="LayerMasks"/> [M, B, 1, T, T]
/// (0: full causal attention, 1: the sliding window). <see cref="Cos"/>, <see cref="Sin"/> and <see cref="Mask"/> are
/// entry 0 of each.</summary>
public sealed record DecoderInputs(Tensor Positions, Tensor? LayerCos, Tensor? LayerSin, Tensor LayerMasks, Tensor Rows, Tensor LastPositions) : IDisposable
{
    /// <summary>The global RoPE cos table [B, 1, T, D] (null for learned positions).</summary>
    public Tensor? Cos { get; } = LayerCos?.select(0, 0);

    /// <summary>The global RoPE sin table [B, 1, T, D] (null for learned positions).</summary>
    public Tensor? Sin { get; } = LayerSin?.select(0, 0);

    /// <summary>The additive causal and padding mask [B, 1, T, T] of full-attention layers.</summary>
    public Tensor Mask { get; } = LayerMasks.select(0, 0);

    public void Dispose()
    {
        Positions.Dispose();
        Cos?.Dispose();
        Sin?.Dispose();
        Mask.Dispose();
        LayerCos?.Dispose();
        LayerSin?.Dispose();
        LayerMasks.Dispose();
        Rows.Dispose();
        LastPositions.Dispose();
    }

    /// <summary>Positions count real tokens only (cumsum of the mask), so a left-padded prompt gets the positions
    /// it gets alone; the mask lets each token see earlier real tokens (within the window in sliding-window layers,
    /// counted by index as Hugging Face does: a row's real tokens are contiguous, so it is the same count); rows pick
    /// each prompt's last real token, unless <c>explained</c> [B, S] (padded positions) is given: then the output has
    /// B * S rows, row b * S + s the logits at position explained[b, s] of prompt b. With <c>explainedIds</c> [B, S, K]
    /// as well, row b * S + s holds only the logits of the K token ids explainedIds[b, s] and the row's log-sum-exp
    /// (<see cref="ExplainedLogits"/>).</summary>
    public static DecoderInputs Prepare(DecoderConfig config, Tensor ids, Tensor mask, ScalarType dtype, Device device, bool rotary,
        Tensor? explained = null, Tensor? explainedIds = null)
    {
        if (explainedIds is not null && (explained is null || explainedIds.dim() != 3
                || explainedIds.shape[0] != explained.shape[0] || explainedIds.shape[1] != explained.shape[1]))
            throw new ArgumentException($"explainedIds [{string.Join(", ", explainedIds.shape)}] must be [B, S, K] for explained positions "
                + (explained is null ? "[B, S]: give those too." : $"[{string.Join(", ", explained.shape)}]."), nameof(explainedIds));
        long B = ids.shape[0], T = ids.shape[1];
        using var scope = torch.NewDisposeScope();
        var real = mask.ne(0);
        if (real.sum(1).min().item<long>() == 0) throw new ArgumentException("every row of the batch needs at least one real token.");
        // Learned position embeddings (GPT-2) have a fixed number of rows; an index past them is a native error.
        long longest = real.sum(1).max().item<long>();
        if (config.MaxPositions > 0 && longest > config.MaxPositions)
            throw new ArgumentException($"a prompt of {longest} tokens is longer than the model's {config.MaxPositions} positions (n_positions in its config.json).");
        var positions = mask.cumsum(1).sub(1).masked_fill(real.logical_not(), 0);
        var (cos, sin) = rotary ? Rotary.Tables(config, positions, dtype, device) : (null, null);
        double min = MaskValues.Min(dtype);
        // The masks are filled in place, one pattern at a time, so that building them holds the masks, their boolean
        // [T, T] patterns and one boolean [B, T, T] of blocked keys at most (the pass's only tensors that grow with T^2).
        var masks = torch.zeros(new long[] { config.HasSlidingLayers ? 2 : 1, B, 1, T, T }, dtype, device);
        using (var causal = torch.ones(T, T, ScalarType.Bool, device).tril_())                // [T, T]
        {
            using (var full = masks.select(0, 0)) FillBlocked(full, causal, real, min);
            if (config.HasSlidingLayers)
            {
                // Query i sees key j when i - window < j <= i.
                using var window = torch.ones(T, T, ScalarType.Bool, device).triu_(1 - config.SlidingWindow).logical_and_(causal);
                using var sliding = masks.select(0, 1);
                FillBlocked(sliding, window, real, min);
            }
        }
        var index = torch.arange(T, device: device).unsqueeze(0).expand(B, T);
        var last = index.masked_fill(real.logical_not(), -1).max(1).values;                   // last real position per row
        var rows = explained is null
            ? torch.arange(B, device: device).mul(T).add(last)
            : torch.arange(B, device: device).mul(T).unsqueeze(1).add(explained.to(ScalarType.Int64, device)).flatten();
        if (explainedIds is not null)
            rows = torch.cat(new[] { rows.unsqueeze(1), explainedIds.to(ScalarType.Int64, device).flatten(0, 1) }, 1);
        var inputs = new DecoderInputs(positions.MoveToOuterDisposeScope(), cos?.MoveToOuterDisposeScope(), sin?.MoveToOuterDisposeScope(),
            masks.MoveToOuterDisposeScope(), rows.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
        // The entry-0 views were made inside this scope: they leave it with the stacks.
        inputs.Cos?.MoveToOuterDisposeScope();
        inputs.Sin?.MoveToOuterDisposeScope();
        inputs.Mask.MoveToOuterDisposeScope();
        return inputs;
    }

    /// <summary>Writes the dtype's most negative value into <paramref name="mask"/> [B, 1, T, T] (zeros) where query row
    /// t may not see key column s: not allowed by <paramref name="pattern"/> [T, T] or not a real key.</summary>
    private static void FillBlocked(Tensor mask, Tensor pattern, Tensor real, double min)
    {
        using var blocked = pattern.unsqueeze(0).logical_and(real.unsqueeze(1)).logical_not_();   // [B, T, T]
        using var perHead = blocked.unsqueeze(1);
        mask.masked_fill_(perHead, min);
    }
}
