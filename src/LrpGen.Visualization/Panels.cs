using System;
using SkiaSharp;

namespace LrpGen.Visualization;

/// <summary>Native-resolution rasters of one panel (one output pixel per input pixel) and their enlarged drawing.</summary>
internal static class Panels
{
    /// <summary>The smallest whole factor that brings the longer side to at least <paramref name="minSize"/>.</summary>
    public static int Factor(int width, int height, int minSize) =>
        Math.Max(1, (minSize + Math.Max(width, height) - 1) / Math.Max(width, height));

    public static SKImage Heatmap(RelevanceMap map, double scale)
    {
        using var bitmap = NewBitmap(map.Width, map.Height);
        for (int y = 0; y < map.Height; y++)
            for (int x = 0; x < map.Width; x++)
                bitmap.SetPixel(x, y, RelevanceColorMap.Map(map.At(y * map.Width + x) / scale));
        return SKImage.FromBitmap(bitmap);
    }

    public static SKImage Image(RgbImage image)
    {
        using var bitmap = NewBitmap(image.Width, image.Height);
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image[x, y];
                bitmap.SetPixel(x, y, new SKColor(r, g, b));
            }
        return SKImage.FromBitmap(bitmap);
    }

    /// <summary>The heatmap over a lightened grey copy of the image; the colour's weight is opacity * sqrt(|scaled R|),
    /// so pixels without relevance show the image and strongly relevant ones the colour map.</summary>
    public static SKImage Overlay(RelevanceMap map, RgbImage image, double scale, double opacity)
    {
        CheckSameSize(map, image);
        using var bitmap = NewBitmap(map.Width, map.Height);
        for (int y = 0; y < map.Height; y++)
            for (int x = 0; x < map.Width; x++)
            {
                double v = Math.Clamp(map.At(y * map.Width + x) / scale, -1.0, 1.0);
                var heat = RelevanceColorMap.Map(v);
                var (r, g, b) = image[x, y];
                double grey = 0.30 + 0.70 * (0.299 * r + 0.587 * g + 0.114 * b) / 255.0;
                double w = opacity * Math.Sqrt(Math.Abs(v));
                byte Mix(byte h) => (byte)Math.Round(Math.Clamp((1 - w) * 255.0 * grey + w * h, 0, 255));
                bitmap.SetPixel(x, y, new SKColor(Mix(heat.Red), Mix(heat.Green), Mix(heat.Blue)));
            }
        return SKImage.FromBitmap(bitmap);
    }

    /// <summary>Draws <paramref name="raster"/> enlarged <paramref name="factor"/> times with nearest-neighbour sampling.</summary>
    public static void DrawEnlarged(SKCanvas canvas, SKImage raster, float left, float top, int factor)
    {
        var dest = SKRect.Create(left, top, raster.Width * factor, raster.Height * factor);
        canvas.DrawImage(raster, dest, new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None));
    }

    public static void CheckSameSize(RelevanceMap map, RgbImage image)
    {
        if (map.Width != image.Width || map.Height != image.Height)
            throw new ArgumentException($"the relevance map is {map.Width}x{map.Height} but the image is {image.Width}x{image.Height}.", nameof(image));
    }

    private static SKBitmap NewBitmap(int width, int height) =>
        new(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
}
