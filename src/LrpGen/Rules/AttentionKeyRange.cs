using System;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>The keys a block of query rows can attend to: [Start, Start + Count). Keys outside the range have
/// probability exactly zero in every row of the block, so leaving them out of the block's products changes no value
/// beyond float rounding: the future under a causal flag (-inf), and keys that a mask blocks (false, -inf, or an
/// additive value at or below <see cref="BlockedAtOrBelow"/>) for every row, provided each row still attends to some
/// key (a row whose keys are all blocked by finite values spreads its probability over them, so its block keeps
/// every key). Causal decoders thus skip half the attention work, sliding windows all but the window.</summary>
internal readonly record struct AttentionKeyRange(long Start, long Count)
{
    /// <summary>Additive mask values at or below this block a key exactly: exp(s + mask - max) underflows to zero for
    /// any score s of realistic size (|s| far below 1e29) in float32 and float64. Masks use the dtype's lowest value
    /// (Hugging Face's finfo.min; <c>LrpGen.Models</c>' MaskValues) or -inf.</summary>
    public const double BlockedAtOrBelow = -1e30;

    /// <summary>float16 cannot hold <see cref="BlockedAtOrBelow"/>; its masks use -65504 (the lowest finite value):
    /// half of it is blocking as well (the softmax runs in float32 and exp(-32752) is zero there).</summary>
    private const double HalfBlockedAtOrBelow = -32752;

    /// <summary>The key range of rows [start, start + count) of <paramref name="keys"/> keys.</summary>
    public static AttentionKeyRange Of(Tensor? mask, bool causal, long start, long count, long keys)
    {
        // The future has probability zero whatever the mask does (a row with no key left is NaN either way).
        var causalRange = new AttentionKeyRange(0, causal ? Math.Min(keys, start + count) : keys);
        if (mask is null || mask.shape[^1] != keys || mask.numel() == 0) return causalRange;
        using var scope = NewDisposeScope();
        var open = Open(MaskRows(mask, start, count));
        if (causal) open = open.logical_and(Future(start, count, 0, keys, mask.device).logical_not_());
        var flat = open.reshape(-1, keys);
        // A row with no open key spreads its probability over its finite-masked keys: then nothing may be left out
        // beyond the causal range.
        if (!flat.any(-1).all().item<bool>()) return causalRange;
        var used = flat.any(0).nonzero();
        long first = used[0, 0].item<long>(), last = used[used.shape[0] - 1, 0].item<long>();
        return new AttentionKeyRange(first, last + 1 - first);
    }

    /// <summary>The rows [start, start + count) of a mask (a mask broadcast along the rows keeps its one row).</summary>
    public static Tensor MaskRows(Tensor mask, long start, long count) =>
        mask.dim() < 2 || mask.shape[^2] == 1 ? mask.alias() : mask.narrow(-2, start, count);

    /// <summary>[count, keys] booleans, true where key firstKey + j lies after query row start + i (the causal future).</summary>
    public static Tensor Future(long start, long count, long firstKey, long keys, Device device)
    {
        using var columns = arange(firstKey, firstKey + keys, 1, ScalarType.Int64, device);
        using var rowIndex = arange(start, start + count, 1, ScalarType.Int64, device);
        using var column = rowIndex.unsqueeze(-1);
        return columns.gt(column);
    }

    /// <summary>Where the mask lets a query see a key.</summary>
    private static Tensor Open(Tensor mask) => mask.dtype switch
    {
        ScalarType.Bool => mask.alias(),
        ScalarType.Float16 => mask.gt(HalfBlockedAtOrBelow),
        _ => mask.gt(BlockedAtOrBelow),
    };

    public bool IsAll(long keys) => Start == 0 && Count == keys;
}
