using LrpGen.Rules;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>The keys a block of query rows keeps (<see cref="AttentionKeyRange"/>), against ranges read off the
/// masks by hand.</summary>
public class AttentionKeyRangeTests
{
    private const long T = 10;

    /// <summary>[1, 1, T, T] of the dtype: 0 where row i sees key j (j &lt;= i, and j &gt; i - window when a window
    /// is given, and j &gt;= pad), else <paramref name="blocked"/>.</summary>
    private static Tensor Mask(double blocked, ScalarType dtype = ScalarType.Float32, long? window = null, long pad = 0)
    {
        var mask = torch.zeros(new long[] { 1, 1, T, T }, dtype);
        var hidden = torch.ones(T, T, ScalarType.Bool).triu(1);
        if (window is long w) hidden = hidden.logical_or(torch.ones(T, T, ScalarType.Bool).tril(-w));
        if (pad > 0) hidden[TensorIndex.Colon, TensorIndex.Slice(0, pad)] = torch.tensor(true);
        return mask.masked_fill_(hidden, blocked);
    }

    [Theory]
    [InlineData(0L, 3L, 0L, 3L)]
    [InlineData(4L, 2L, 0L, 6L)]
    [InlineData(8L, 2L, 0L, 10L)]
    public void CausalFlagKeepsThePast(long start, long count, long first, long keys)
    {
        Assert.Equal(new AttentionKeyRange(first, keys), AttentionKeyRange.Of(null, causal: true, start, count, T));
        Assert.Equal(new AttentionKeyRange(0, T), AttentionKeyRange.Of(null, causal: false, start, count, T));
    }

    [Fact]
    public void LowestValuedCausalMaskKeepsThePast()
    {
        Assert.Equal(new AttentionKeyRange(0, 6), AttentionKeyRange.Of(Mask(float.MinValue), false, 4, 2, T));
        Assert.Equal(new AttentionKeyRange(0, 6), AttentionKeyRange.Of(Mask(double.NegativeInfinity), false, 4, 2, T));
        Assert.Equal(new AttentionKeyRange(0, 6), AttentionKeyRange.Of(Mask(float.MinValue, ScalarType.Float64), false, 4, 2, T));
        Assert.Equal(new AttentionKeyRange(0, 6), AttentionKeyRange.Of(Mask(-65504, ScalarType.Float16), false, 4, 2, T));
        using var allowed = Mask(float.MinValue).eq(0);
        Assert.Equal(new AttentionKeyRange(0, 6), AttentionKeyRange.Of(allowed, false, 4, 2, T));
    }

    [Fact]
    public void SlidingWindowKeepsTheWindow()
    {
        // Window 3: row 4 sees keys 2..4, row 5 sees 3..5.
        Assert.Equal(new AttentionKeyRange(2, 4), AttentionKeyRange.Of(Mask(float.MinValue, window: 3), false, 4, 2, T));
        Assert.Equal(new AttentionKeyRange(2, 4), AttentionKeyRange.Of(Mask(float.MinValue, window: 3), true, 4, 2, T));
    }

    [Fact]
    public void SmallMaskValuesKeepEveryKey()
    {
        // -1e9 is not certain to zero a probability: nothing is left out beyond what the causal flag gives.
        Assert.Equal(new AttentionKeyRange(0, T), AttentionKeyRange.Of(Mask(-1e9), false, 4, 2, T));
        Assert.Equal(new AttentionKeyRange(0, 6), AttentionKeyRange.Of(Mask(-1e9), true, 4, 2, T));
    }

    [Fact]
    public void RowsThatSeeNoKeyKeepEveryKey()
    {
        // Left padding of 3: rows 0..2 see no key (every entry finite and lowest: softmax spreads over all of them).
        var mask = Mask(float.MinValue, pad: 3);
        Assert.Equal(new AttentionKeyRange(0, T), AttentionKeyRange.Of(mask, false, 2, 2, T));
        Assert.Equal(new AttentionKeyRange(0, 4), AttentionKeyRange.Of(mask, true, 2, 2, T));
        // Rows 4 and 5 see keys 3..5.
        Assert.Equal(new AttentionKeyRange(3, 3), AttentionKeyRange.Of(mask, false, 4, 2, T));
    }

    [Fact]
    public void KeyPaddingRowKeepsTheUnpaddedKeys()
    {
        // A [B, 1, 1, T] padding mask (encoders): the last two keys padded in one sequence, none in the other.
        var mask = torch.zeros(2, 1, 1, T);
        mask[0, 0, 0, TensorIndex.Slice(T - 2, T)] = torch.tensor(float.MinValue);
        Assert.Equal(new AttentionKeyRange(0, T), AttentionKeyRange.Of(mask, false, 0, 4, T));
        mask[1, 0, 0, TensorIndex.Slice(T - 2, T)] = torch.tensor(float.MinValue);
        Assert.Equal(new AttentionKeyRange(0, T - 2), AttentionKeyRange.Of(mask, false, 0, 4, T));
    }
}
