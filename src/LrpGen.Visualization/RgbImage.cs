using System;
using static TorchSharp.torch;

namespace LrpGen.Visualization;

/// <summary>An 8-bit RGB image, row-major, three bytes a pixel.</summary>
public sealed class RgbImage
{
    private readonly byte[] _rgb;

    private RgbImage(int width, int height, byte[] rgb)
    {
        Width = width;
        Height = height;
        _rgb = rgb;
    }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new ArgumentOutOfRangeException(nameof(x), $"pixel ({x}, {y}) is outside the {Width}x{Height} image.");
            int i = 3 * (y * Width + x);
            return (_rgb[i], _rgb[i + 1], _rgb[i + 2]);
        }
    }

    /// <summary>An image from interleaved RGB bytes (row-major, <c>3 * width * height</c> of them); the array is copied.</summary>
    public static RgbImage FromRgbBytes(byte[] rgb, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        CheckSize(width, height);
        if (rgb.Length != 3L * width * height)
            throw new ArgumentException($"{rgb.Length} bytes for a {width}x{height} RGB image; expected {3L * width * height}.", nameof(rgb));
        return new RgbImage(width, height, (byte[])rgb.Clone());
    }

    /// <summary>An image from channel-major floats [3, height, width], mapping [<paramref name="low"/>,
    /// <paramref name="high"/>] to [0, 255] (values outside are clipped).</summary>
    public static RgbImage FromChw(float[] chw, int height, int width, float low = 0f, float high = 1f)
    {
        ArgumentNullException.ThrowIfNull(chw);
        CheckSize(width, height);
        if (chw.Length != 3L * width * height)
            throw new ArgumentException($"{chw.Length} values for a [3, {height}, {width}] image; expected {3L * width * height}.", nameof(chw));
        if (!(high > low)) throw new ArgumentException($"the value range [{low}, {high}] is empty.", nameof(high));
        int plane = width * height;
        var rgb = new byte[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++)
            {
                float v = chw[c * plane + i];
                if (float.IsNaN(v)) throw new ArgumentException("the image contains NaN.", nameof(chw));
                rgb[3 * i + c] = (byte)Math.Round(255.0 * Math.Clamp((v - low) / (high - low), 0.0, 1.0));
            }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>An image from a float tensor [3, H, W] or [1, 3, H, W] (any device), mapping [<paramref name="low"/>,
    /// <paramref name="high"/>] to [0, 255]. For a normalised model input x = (image - mean) / std pass
    /// low = -mean / std and high = (1 - mean) / std.</summary>
    public static RgbImage FromTensor(Tensor image, float low = 0f, float high = 1f)
    {
        ArgumentNullException.ThrowIfNull(image);
        var shape = image.shape;
        bool batched = shape.Length == 4 && shape[0] == 1;
        if (!(shape.Length == 3 || batched) || shape[^3] != 3)
            throw new ArgumentException($"an image tensor is [3, H, W] or [1, 3, H, W]; this one is [{string.Join(", ", shape)}].", nameof(image));
        using var values = image.detach().to(ScalarType.Float32).cpu().contiguous();
        return FromChw(values.data<float>().ToArray(), checked((int)shape[^2]), checked((int)shape[^1]), low, high);
    }

    internal static void CheckSize(int width, int height)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "the width must be at least 1.");
        if (height < 1) throw new ArgumentOutOfRangeException(nameof(height), height, "the height must be at least 1.");
    }
}
