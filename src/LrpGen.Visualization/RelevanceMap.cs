using System;
using System.Linq;
using static TorchSharp.torch;

namespace LrpGen.Visualization;

/// <summary>A relevance map [height, width] (row-major floats): one value a pixel, e.g. pixel relevance summed over
/// the colour channels.</summary>
public sealed class RelevanceMap
{
    private readonly float[] _values;

    private RelevanceMap(int width, int height, float[] values)
    {
        Width = width;
        Height = height;
        _values = values;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>The value at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public float this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new ArgumentOutOfRangeException(nameof(x), $"pixel ({x}, {y}) is outside the {Width}x{Height} map.");
            return _values[y * Width + x];
        }
    }

    /// <summary>The largest absolute value (0 for an all-zero map).</summary>
    public double MaxAbs => _values.Length == 0 ? 0 : _values.Max(v => Math.Abs(v));

    /// <summary>The <paramref name="percentile"/>-th percentile (0 &lt; p &lt;= 100) of the absolute values, linearly
    /// interpolated between ranks (100 is the maximum).</summary>
    public double PercentileAbs(double percentile)
    {
        if (!(percentile > 0 && percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "the percentile must lie in (0, 100].");
        var sorted = _values.Select(v => (double)Math.Abs(v)).OrderBy(v => v).ToArray();
        double rank = percentile / 100.0 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>A map from a [height, width] array; the values are copied. NaN and infinities are rejected.</summary>
    public static RelevanceMap FromArray(float[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int height = values.GetLength(0), width = values.GetLength(1);
        RgbImage.CheckSize(width, height);
        var flat = new float[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                flat[y * width + x] = values[y, x];
        return Checked(width, height, flat, nameof(values));
    }

    /// <summary>A map from row-major values (<c>width * height</c> of them); the array is copied.</summary>
    public static RelevanceMap FromValues(float[] values, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(values);
        RgbImage.CheckSize(width, height);
        if (values.Length != (long)width * height)
            throw new ArgumentException($"{values.Length} values for a {width}x{height} map; expected {(long)width * height}.", nameof(values));
        return Checked(width, height, (float[])values.Clone(), nameof(values));
    }

    /// <summary>A map from a tensor [H, W] or [1, H, W] (any float type, any device).</summary>
    public static RelevanceMap FromTensor(Tensor relevance)
    {
        ArgumentNullException.ThrowIfNull(relevance);
        var shape = relevance.shape;
        if (!(shape.Length == 2 || (shape.Length == 3 && shape[0] == 1)))
            throw new ArgumentException($"a relevance map is [H, W] or [1, H, W]; this one is [{string.Join(", ", shape)}]. " +
                "Sum pixel relevance over its channels first (FromPixelRelevance).", nameof(relevance));
        using var values = relevance.detach().to(ScalarType.Float32).cpu().contiguous();
        return Checked(checked((int)shape[^1]), checked((int)shape[^2]), values.data<float>().ToArray(), nameof(relevance));
    }

    /// <summary>The map of pixel relevance [C, H, W] or [1, C, H, W]: the sum over the channels.</summary>
    public static RelevanceMap FromPixelRelevance(Tensor pixelRelevance)
    {
        ArgumentNullException.ThrowIfNull(pixelRelevance);
        var shape = pixelRelevance.shape;
        if (!(shape.Length == 3 || (shape.Length == 4 && shape[0] == 1)))
            throw new ArgumentException($"pixel relevance is [C, H, W] or [1, C, H, W]; this one is [{string.Join(", ", shape)}].", nameof(pixelRelevance));
        using var summed = pixelRelevance.detach().to(ScalarType.Float32).sum(shape.Length - 3);
        return FromTensor(summed);   // [H, W] or [1, H, W]
    }

    internal float At(int index) => _values[index];

    private static RelevanceMap Checked(int width, int height, float[] values, string parameter)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) throw new ArgumentException($"the relevance map contains {v}.", parameter);
        return new RelevanceMap(width, height, values);
    }
}
