using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Small forward-side helpers used by generated code.</summary>
public static class Shapes
{
    /// <summary>The sizes of tensors along one dimension (what cat's adjoint splits g into).</summary>
    public static long[] SizesAlong(long dim, params Tensor[] parts)
    {
        var sizes = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++) sizes[i] = parts[i].shape[dim < 0 ? dim + parts[i].dim() : dim];
        return sizes;
    }

    /// <summary>Guarantees a new handle: some TorchSharp calls return their input unchanged (e.g. a no-op
    /// conversion), and generated code disposes inputs and outputs independently.</summary>
    public static Tensor Own(Tensor input, Tensor result) => ReferenceEquals(input, result) ? input.alias() : result;
}
