using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>What a pass remembers of an input at forward time, to notice later that the caller changed it in place
/// (the pass holds an alias of the caller's tensor, so such a change would silently mix new inputs with the old
/// activations on the tape). Two checks, because neither sees everything:
/// <list type="bullet">
/// <item>LibTorch's version counter (<see cref="TensorVersion"/>) sees every in-place torch operation, at no cost,
/// but not writes through TorchSharp's <c>data&lt;T&gt;()</c> accessors, which go straight to memory;</item>
/// <item>a position-weighted sum of the values, <c>sum_i (i + 1) * x_i</c> in float64, sees those writes (and
/// reorderings, which a plain sum would miss), at the cost of one reduction over the input per check.</item>
/// </list>
/// The data pointer is not compared: the pass's alias keeps the storage alive and in place whatever the caller
/// does to its own handle.</summary>
internal readonly struct InputFingerprint
{
    private readonly long? _version;
    private readonly long _checksumBits;

    private InputFingerprint(long? version, long checksumBits)
    {
        _version = version;
        _checksumBits = checksumBits;
    }

    public static InputFingerprint Of(Tensor value) => new(TensorVersion.Of(value), ChecksumBits(value));

    /// <summary>True when the tensor still holds what it held when this fingerprint was taken.</summary>
    public bool Matches(Tensor value) =>
        (_version is not long version || TensorVersion.Of(value) == version) && ChecksumBits(value) == _checksumBits;

    // Compared as bits, so that an input holding NaN still matches itself.
    private static long ChecksumBits(Tensor value)
    {
        using var noGrad = torch.no_grad();
        using var flatView = value.flatten();
        using var flat = flatView.to(ScalarType.Float64);
        using var positions = torch.arange(1, flat.shape[0] + 1, ScalarType.Float64, flat.device);
        using var weighted = flat.mul(positions);
        using var sum = weighted.sum();
        return BitConverter.DoubleToInt64Bits(sum.item<double>());
    }
}
