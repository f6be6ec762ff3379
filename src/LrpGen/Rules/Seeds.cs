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

    /// <summary>seeded @ plain, for a gradient <paramref name="seeded"/> [S, ..., M, N] and a forward value
    /// <paramref name="plain"/> [..., N, K]. With batch dimensions, matmul broadcasts by copying the forward value S
    /// times; when the gradient is smaller than those copies (A^T g with attention weights A), S is folded into M
    /// instead, which copies the gradient once to reorder it.</summary>
    public static Tensor MatmulLeft(Tensor seeded, Tensor plain)
    {
        if (!FoldPays(seeded, plain)) return seeded.matmul(plain);
        long m = seeded.shape[^2];
        using var moved = seeded.movedim(new long[] { 0 }, new long[] { -3 });                 // [..., S, M, N]
        using var folded = moved.flatten(-3, -2);                // [..., S*M, N]
        using var product = folded.matmul(plain);                // [..., S*M, K]
        using var split = product.unflatten(product.dim() - 2, new[] { Count(seeded), m }); // TorchSharp wants a non-negative dim here
        return split.movedim(new long[] { -3 }, new long[] { 0 });                             // [S, ..., M, K]
    }

    /// <summary>plain @ seeded, for a forward value <paramref name="plain"/> [..., M, N] with batch dimensions and a
    /// gradient <paramref name="seeded"/> [S, ..., N, K]: S is folded into K (see <see cref="MatmulLeft"/>).</summary>
    public static Tensor MatmulRight(Tensor plain, Tensor seeded)
    {
        if (!FoldPays(seeded, plain)) return plain.matmul(seeded);
        long k = seeded.shape[^1];
        using var moved = seeded.movedim(new long[] { 0 }, new long[] { -2 });                 // [..., N, S, K]
        using var folded = moved.flatten(-2, -1);                // [..., N, S*K]
        using var product = plain.matmul(folded);                // [..., M, S*K]
        using var split = product.unflatten(product.dim() - 1, new[] { Count(seeded), k });
        return split.movedim(new long[] { -2 }, new long[] { 0 });                             // [S, ..., M, K]
    }

    /// <summary>Whether reordering the gradient costs less than the S copies of a batched forward value (a matrix,
    /// rank 2, is never copied: matmul folds the batch dims of the other side).</summary>
    private static bool FoldPays(Tensor seeded, Tensor plain) =>
        plain.dim() > 2 && Count(seeded) > 1 && seeded.NumberOfElements < Count(seeded) * plain.NumberOfElements;

    /// <summary>A gradient of zeros for a value of shape <paramref name="valueShape"/>, like <paramref name="g"/>'s seeds, dtype and device.</summary>
    public static Tensor Zeros(Tensor g, long[] valueShape) => TorchSharp.torch.zeros(Shape(g, valueShape), g.dtype, g.device);
}
