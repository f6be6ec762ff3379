using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>The constant inputs of a decoder forward for a (possibly padded) batch.</summary>
public sealed record DecoderInputs(Tensor Positions, Tensor? Cos, Tensor? Sin, Tensor Mask, Tensor Rows, Tensor LastPositions) : IDisposable
{
    public void Dispose()
    {
        Positions.Dispose();
        Cos?.Dispose();
        Sin?.Dispose();
        Mask.Dispose();
        Rows.Dispose();
        LastPositions.Dispose();
    }

    /// <summary>Positions count real tokens only (cumsum of the mask), so a left-padded prompt gets the positions
    /// it gets alone; the mask lets each token see earlier real tokens; rows pick each prompt's last real token.</summary>
    public static DecoderInputs Prepare(DecoderConfig config, Tensor ids, Tensor mask, ScalarType dtype, Device device, bool rotary)
    {
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
        var causal = torch.ones(T, T, ScalarType.Bool, device).tril();                       // [T, T]
        var allowed = causal.unsqueeze(0).logical_and(real.unsqueeze(1));                      // [B, T, T]
        double min = MaskValues.Min(dtype);
        var additive = torch.zeros(B, 1, T, T, dtype, device).masked_fill(allowed.logical_not().unsqueeze(1), min);
        var index = torch.arange(T, device: device).unsqueeze(0).expand(B, T);
        var last = index.masked_fill(real.logical_not(), -1).max(1).values;                   // last real position per row
        var rows = torch.arange(B, device: device).mul(T).add(last);
        return new DecoderInputs(positions.MoveToOuterDisposeScope(), cos?.MoveToOuterDisposeScope(), sin?.MoveToOuterDisposeScope(), additive.MoveToOuterDisposeScope(),
            rows.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }
}
