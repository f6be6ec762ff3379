using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Bookkeeping of modified gradients in generated backward passes.</summary>
/// <remarks>Convention: rule functions borrow their inputs and return tensors the caller owns.</remarks>
public static class Grad
{
    /// <summary>Adds an owned contribution into an owned accumulator; null means "no relevance".</summary>
    public static void Add(ref Tensor? accumulator, Tensor? contribution)
    {
        if (contribution is null) return;
        if (_metering) _largestBytes = Math.Max(_largestBytes, contribution.NumberOfElements * contribution.ElementSize);
        if (accumulator is null)
        {
            accumulator = contribution;
            return;
        }
        var sum = accumulator.add(contribution);
        accumulator.Dispose();
        contribution.Dispose();
        accumulator = sum;
    }

    /// <summary>How many times its largest gradient one seed's backward is taken to hold at its peak (the gradient,
    /// a contribution to it and a rule's temporaries): the estimate behind <see cref="LrpOptions.SeedMemoryBudget"/>.</summary>
    public const int SeedCostFactor = 4;

    [ThreadStatic] private static bool _metering;
    [ThreadStatic] private static long _largestBytes;

    /// <summary>Runs a backward and returns the size in bytes of the largest gradient it accumulated.</summary>
    internal static long LargestGradientBytes(Action backward)
    {
        bool outer = _metering;
        long outerLargest = _largestBytes;
        _metering = true;
        _largestBytes = 0;
        try
        {
            backward();
            return _largestBytes;
        }
        finally
        {
            _metering = outer;
            _largestBytes = Math.Max(outerLargest, _largestBytes);
        }
    }

    /// <summary>Adds an owned contribution into one slot of the gradient of a tensor array (chunk, split).</summary>
    public static void AddAt(ref Tensor?[]? accumulator, int index, int count, Tensor? contribution)
    {
        if (contribution is null) return;
        accumulator ??= new Tensor?[count];
        Add(ref accumulator[index], contribution);
    }

    /// <summary>Disposes the gradient of a tensor array.</summary>
    public static void Release(ref Tensor?[]? g)
    {
        if (g is not null) foreach (var t in g) t?.Dispose();
        g = null;
    }

    /// <summary>Disposes a gradient that is no longer needed.</summary>
    public static void Release(ref Tensor? g)
    {
        g?.Dispose();
        g = null;
    }

    /// <summary>Sums a broadcast gradient back to the shape of the operand it came from (a value shape: the
    /// leading seed dimension is kept, <see cref="Seeds"/>).</summary>
    public static Tensor SumTo(Tensor g, long[] shape)
    {
        var gs = g.shape;
        var target = Seeds.Shape(g, shape);
        if (ShapesEqual(gs, target)) return g.alias();
        int lead = gs.Length - target.Length;
        if (lead < 0) throw new InvalidOperationException($"Cannot reduce a gradient of rank {gs.Length} to rank {target.Length}.");
        var dims = new System.Collections.Generic.List<long>();
        for (int i = 0; i < lead; i++) dims.Add(1 + i);
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] == 1 && gs[1 + lead + i] != 1) dims.Add(1 + lead + i);
        if (dims.Count == 0) return g.reshape(target);
        using var summed = g.sum(dims.ToArray(), keepdim: true);
        return summed.reshape(target);
    }

    /// <summary>Multiplies g by a factor (a constant operand) and sums back to the shape of the other operand.</summary>
    public static Tensor MulSumTo(Tensor g, Tensor factor, long[] shape, double scale = 1.0)
    {
        using var prod = scale == 1.0 ? g.mul(factor) : g.mul(factor).mul_(scale);
        return SumTo(prod, shape);
    }

    internal static bool ShapesEqual(long[] a, long[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }
}
