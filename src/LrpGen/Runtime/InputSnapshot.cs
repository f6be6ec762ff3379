using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>What a pass remembers of an input at forward time, to notice later that the caller changed it in place
/// (the pass holds an alias of the caller's tensor, so such a change would silently mix new inputs with the old
/// activations on the tape). Two checks:
/// <list type="bullet">
/// <item>LibTorch's version counter (<see cref="TensorVersion"/>) answers at no cost for every in-place torch
/// operation (as in PyTorch's autograd, one that happens to leave the values unchanged counts too), but misses
/// writes through TorchSharp's <c>data&lt;T&gt;()</c> accessors, which go straight to memory;</item>
/// <item>a copy of the values, compared exactly (NaN equal to NaN), sees every change of value, those writes too.
/// A copy rather than a position-weighted checksum: one memcpy at forward and one comparison per check, where the
/// checksum's float64 temporaries made each check 5 to 15 times slower (measured on [1..8, 2048, 4096] float32),
/// and no collisions. Its memory is one input, less than one layer's share of the tape.</item>
/// </list>
/// The data pointer is not compared: the pass's alias keeps the storage alive and in place whatever the caller
/// does to its own handle.</summary>
internal sealed class InputSnapshot : IDisposable
{
    private readonly long? _version;
    private readonly Tensor _copy;

    public InputSnapshot(Tensor value)
    {
        _version = TensorVersion.Of(value);
        using var noGrad = torch.no_grad();
        _copy = value.clone();
    }

    /// <summary>True when the tensor still holds what it held when the snapshot was taken.</summary>
    public bool Matches(Tensor value)
    {
        if (_version is long version && TensorVersion.Of(value) != version) return false;
        using var noGrad = torch.no_grad();
        if (value.Equals(_copy)) return true;
        // equal() says NaN != NaN: an input holding NaN is compared again, NaN matching NaN.
        return value.is_floating_point() && value.allclose(_copy, rtol: 0, atol: 0, equal_nan: true);
    }

    public void Dispose() => _copy.Dispose();
}
