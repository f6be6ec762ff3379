using System;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Exact adjoints (vector-Jacobian products) of linear and structural operations: the epsilon rule
/// with eps = 0. Each borrows g and returns a tensor the caller owns. Gradients carry the leading seed
/// dimension (<see cref="Seeds"/>); shapes and dims are the forward's.</summary>
public static class Adjoint
{
    public static Tensor Identity(Tensor g) => g.alias();

    public static Tensor Reshape(Tensor g, long[] inputShape) => g.reshape(Seeds.Shape(g, inputShape));

    public static Tensor Transpose(Tensor g, long dim0, long dim1) => g.transpose(Seeds.Dim(dim0), Seeds.Dim(dim1));

    public static Tensor Permute(Tensor g, long[] dims)
    {
        // The seed dimension stays first.
        var inverse = new long[dims.Length + 1];
        for (int i = 0; i < dims.Length; i++)
            inverse[Seeds.Dim(dims[i], dims.Length)] = i + 1;
        return g.permute(inverse);
    }

    /// <summary>expand / broadcast: sum over the broadcast dimensions.</summary>
    public static Tensor Expand(Tensor g, long[] inputShape) => Grad.SumTo(g, inputShape);

    /// <summary>repeat_interleave(repeats, dim): sum each group of repeats.</summary>
    public static Tensor RepeatInterleave(Tensor g, long repeats, long dim, long[] inputShape)
    {
        long d = Seeds.Dim(dim, inputShape.Length);
        var split = g.shape.ToList();
        split[(int)d] = inputShape[d - 1];
        split.Insert((int)d + 1, repeats);
        using var grouped = g.reshape(split.ToArray());
        return grouped.sum(d + 1);
    }

    /// <summary>index_select(dim, index): add g back at the selected positions (repeats accumulate).</summary>
    public static Tensor IndexSelect(Tensor g, long dim, Tensor index, long[] inputShape)
    {
        var z = Seeds.Zeros(g, inputShape);
        z.index_add_(Seeds.Dim(dim, inputShape.Length), index, g, 1);
        return z;
    }

    public static Tensor Narrow(Tensor g, long dim, long start, long length, long[] inputShape)
    {
        var z = Seeds.Zeros(g, inputShape);
        using (var window = z.narrow(Seeds.Dim(dim), start, length)) window.copy_(g);
        return z;
    }

    /// <summary>Indexing with TensorIndex (slices, single indices, ellipsis, None): scatter g back into zeros.</summary>
    public static Tensor Index(Tensor g, TensorIndex[] indices, long[] inputShape)
    {
        var z = Seeds.Zeros(g, inputShape);
        // A leading full slice keeps the seed dimension out of the user's indices.
        var seeded = new TensorIndex[indices.Length + 1];
        seeded[0] = TensorIndex.Colon;
        indices.CopyTo(seeded, 1);
        z.index_put_(g, seeded);
        return z;
    }

    /// <summary>cat(tensors, dim): the slice of g belonging to input i.</summary>
    public static Tensor CatPart(Tensor g, long dim, long[] sizes, int part)
    {
        long start = 0;
        for (int i = 0; i < part; i++) start += sizes[i];
        using var slice = g.narrow(Seeds.Dim(dim), start, sizes[part]);
        return slice.contiguous();
    }

    /// <summary>chunk / split: gradients of the parts (null = no relevance) concatenated back.</summary>
    public static Tensor Split(Tensor?[] parts, long dim, long[] sizes, long[] inputShape)
    {
        Tensor? reference = null;
        foreach (var p in parts) reference ??= p;
        if (reference is null) throw new System.ArgumentException("Split needs at least one part with a gradient.", nameof(parts));
        var pieces = new Tensor[parts.Length];
        try
        {
            for (int i = 0; i < parts.Length; i++)
            {
                if (parts[i] is { } p) pieces[i] = p.alias();
                else
                {
                    var shape = (long[])inputShape.Clone();
                    shape[dim < 0 ? dim + shape.Length : dim] = sizes[i];
                    pieces[i] = Seeds.Zeros(reference, shape);
                }
            }
            return torch.cat(pieces, Seeds.Dim(dim));
        }
        finally
        {
            foreach (var p in pieces) p?.Dispose();
        }
    }

    /// <summary>The sizes along dim of the parts torch.chunk(n, dim) makes.</summary>
    public static long[] ChunkSizes(long size, long chunks)
    {
        long each = (size + chunks - 1) / chunks;
        var sizes = new System.Collections.Generic.List<long>();
        for (long s = size; s > 0; s -= each) sizes.Add(Math.Min(each, s));
        return sizes.ToArray();
    }

    /// <summary>sum over dims (all when null): broadcast g back.</summary>
    public static Tensor Sum(Tensor g, long[]? dims, bool keepdim, long[] inputShape)
    {
        using var kept = Unsqueeze(g, dims, keepdim, inputShape.Length);
        using var expanded = kept.expand(Seeds.Shape(g, inputShape));
        return expanded.contiguous();
    }

    public static Tensor Mean(Tensor g, long[]? dims, bool keepdim, long[] inputShape)
    {
        long count = 1;
        if (dims is null || dims.Length == 0) foreach (var s in inputShape) count *= s;
        else foreach (var d in dims) count *= inputShape[d < 0 ? d + inputShape.Length : d];
        using var summed = Sum(g, dims, keepdim, inputShape);
        return summed.div(count);
    }

    private static Tensor Unsqueeze(Tensor g, long[]? dims, bool keepdim, int rank)
    {
        if (keepdim) return g.alias();
        if (dims is null || dims.Length == 0)
        {
            var ones = Enumerable.Repeat(1L, rank + 1).ToArray();
            ones[0] = Seeds.Count(g);
            return g.reshape(ones);
        }
        var sorted = dims.Select(d => Seeds.Dim(d, rank)).OrderBy(d => d).ToArray();
        var r = g.alias();
        foreach (var d in sorted)
        {
            var next = r.unsqueeze(d);
            r.Dispose();
            r = next;
        }
        return r;
    }

    public static Tensor Scale(Tensor g, double factor) => g.mul(factor);

    public static Tensor Negate(Tensor g) => g.neg();

    public static Tensor MaskedFill(Tensor g, Tensor mask) => g.masked_fill(mask, 0);

    /// <summary>to(dtype / device): the gradient goes back to the input's dtype and device.</summary>
    public static Tensor ToLike(Tensor g, ScalarType dtype, Device device) => Shapes.Own(g, g.to(dtype, device));

    /// <summary>Sums a broadcast operand of + or - back to its shape, negated for the subtrahend.</summary>
    public static Tensor AddOperand(Tensor g, long[] operandShape, bool negate)
    {
        var r = Grad.SumTo(g, operandShape);
        if (!negate) return r;
        var n = r.neg();
        r.Dispose();
        return n;
    }
}
