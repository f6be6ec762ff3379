using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>The layout of every gradient in a generated backward: one leading seed dimension S before the shape of
/// the value it belongs to ([S, ...value shape]; S = 1 for a single explained quantity). The tape holds forward
/// values without it, and the rules broadcast them over S, so one backward explains S quantities of one forward.
/// Shapes and dims the forward recorded describe values; the rules turn them into gradient shapes and dims here.</summary>
public static class Seeds
{
    /// <summary>A dimension of a value as the same dimension of its gradient: non-negative dims move past the seed
    /// dimension, negative ones (counted from the end) stay.</summary>
    public static long Dim(long dim) => dim >= 0 ? dim + 1 : dim;

    /// <summary>A dimension of a value of rank <paramref name="valueRank"/> as a non-negative dimension of its gradient.</summary>
    public static long Dim(long dim, int valueRank) => (dim < 0 ? dim + valueRank : dim) + 1;

    /// <summary>The number of seeds S a gradient carries.</summary>
    public static long Count(Tensor g) => g.shape[0];

    /// <summary>The gradient shape of a value of shape <paramref name="valueShape"/>, for the seeds of <paramref name="g"/>.</summary>
    public static long[] Shape(Tensor g, long[] valueShape)
    {
        var shape = new long[valueShape.Length + 1];
        shape[0] = g.shape[0];
        valueShape.CopyTo(shape, 1);
        return shape;
    }

    /// <summary>A gradient of zeros for a value of shape <paramref name="valueShape"/>, like <paramref name="g"/>'s seeds, dtype and device.</summary>
    public static Tensor Zeros(Tensor g, long[] valueShape) => TorchSharp.torch.zeros(Shape(g, valueShape), g.dtype, g.device);
}
