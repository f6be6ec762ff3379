using System;
using System.Collections.Generic;
using System.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace LrpGen.Visualization;

/// <summary>One relevance map as a picture: the red/white/blue heatmap, optionally blended over the image and
/// side by side with it (<see cref="HeatmapOptions.Layout"/>), enlarged with nearest neighbour, written as PNG.</summary>
public static class HeatmapImage
{
    /// <summary>Renders the panels that <paramref name="options"/> asks for (without an image: the heatmap alone).
    /// The caller owns the bitmap.</summary>
    public static SKBitmap Render(RelevanceMap map, RgbImage? image = null, HeatmapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        options ??= new HeatmapOptions();
        options.Validate();
        if (image is not null) Panels.CheckSameSize(map, image);
        double scale = RelevanceColorMap.ScaleOf(map, options);

        var layout = image is null ? HeatmapLayout.HeatmapOnly : options.Layout;
        var panels = new List<SKImage>();
        try
        {
            if (layout is HeatmapLayout.ImageAndOverlay or HeatmapLayout.ImageAndHeatmap or HeatmapLayout.ImageHeatmapOverlay)
                panels.Add(Panels.Image(image!));
            if (layout is HeatmapLayout.ImageAndHeatmap or HeatmapLayout.ImageHeatmapOverlay or HeatmapLayout.HeatmapOnly)
                panels.Add(Panels.Heatmap(map, scale));
            if (layout is HeatmapLayout.ImageAndOverlay or HeatmapLayout.ImageHeatmapOverlay or HeatmapLayout.OverlayOnly)
                panels.Add(Panels.Overlay(map, image!, scale, options.Opacity));

            int factor = Panels.Factor(map.Width, map.Height, options.MinPanelSize);
            int panelWidth = map.Width * factor, panelHeight = map.Height * factor, gap = options.Gap;
            var bitmap = new SKBitmap(new SKImageInfo(gap + panels.Count * (panelWidth + gap), panelHeight + 2 * gap,
                SKColorType.Rgba8888, SKAlphaType.Opaque));
            using var canvas = new SKCanvas(bitmap);
            canvas.Clear(SKColors.White);
            for (int i = 0; i < panels.Count; i++)
                Panels.DrawEnlarged(canvas, panels[i], gap + i * (panelWidth + gap), gap, factor);
            canvas.Flush();
            return bitmap;
        }
        finally
        {
            foreach (var panel in panels) panel.Dispose();
        }
    }

    /// <summary>Renders (see <see cref="Render"/>) and writes a PNG file, creating its folder if needed.</summary>
    public static void WritePng(string path, RelevanceMap map, RgbImage? image = null, HeatmapOptions? options = null)
    {
        CheckPath(path);
        using var bitmap = Render(map, image, options);
        WritePng(path, bitmap);
    }

    /// <summary>The same for tensors: relevance [H, W] (or [1, H, W]) and an optional image [3, H, W] (or [1, 3, H, W])
    /// whose values in [<paramref name="imageLow"/>, <paramref name="imageHigh"/>] map to black .. full colour.</summary>
    public static void WritePng(string path, Tensor relevance, Tensor? image = null, HeatmapOptions? options = null,
        float imageLow = 0f, float imageHigh = 1f)
    {
        CheckPath(path);
        ArgumentNullException.ThrowIfNull(relevance);
        WritePng(path, RelevanceMap.FromTensor(relevance), image is null ? null : RgbImage.FromTensor(image, imageLow, imageHigh), options);
    }

    /// <summary>PNG bytes of a bitmap.</summary>
    public static byte[] EncodePng(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the bitmap as PNG.");
        return data.ToArray();
    }

    /// <summary>Writes a bitmap as a PNG file, creating its folder if needed. The file is replaced only when complete
    /// (a failure leaves an existing file as it was).</summary>
    public static void WritePng(string path, SKBitmap bitmap)
    {
        CheckPath(path);
        WriteEncoded(path, EncodePng(bitmap));
    }

    /// <summary>Writes a bitmap in the format its name asks for: .png (lossless) or .jpg / .jpeg (quality
    /// <paramref name="jpegQuality"/>); any other extension is an <see cref="ArgumentException"/> (see
    /// <see cref="FormatOf"/>). The file is replaced only when complete.</summary>
    public static void Write(string path, SKBitmap bitmap, int jpegQuality = 95)
    {
        CheckPath(path);
        WriteEncoded(path, Encode(bitmap, FormatOf(path), jpegQuality));
    }

    /// <summary>PNG or JPEG bytes of a bitmap (JPEG has no alpha: the bitmap is flattened onto white).</summary>
    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int jpegQuality = 95)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (format == SKEncodedImageFormat.Png) return EncodePng(bitmap);
        if (format != SKEncodedImageFormat.Jpeg) throw new ArgumentException($"{format} is not written here (PNG, JPEG).", nameof(format));
        using var opaque = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(opaque))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(bitmap, 0, 0);
        }
        using var image = SKImage.FromBitmap(opaque);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, jpegQuality)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the bitmap as JPEG.");
        return data.ToArray();
    }

    /// <summary>Renders (see <see cref="Render"/>) and writes PNG or JPEG by the file's extension.</summary>
    public static void Write(string path, Tensor relevance, Tensor? image = null, HeatmapOptions? options = null,
        float imageLow = 0f, float imageHigh = 1f)
    {
        CheckPath(path);
        ArgumentNullException.ThrowIfNull(relevance);
        FormatOf(path);
        using var bitmap = Render(RelevanceMap.FromTensor(relevance), image is null ? null : RgbImage.FromTensor(image, imageLow, imageHigh), options);
        Write(path, bitmap);
    }

    /// <summary>The image format a file name asks for: PNG for .png, JPEG for .jpg / .jpeg (any case); anything
    /// else is an <see cref="ArgumentException"/> naming the extensions written.</summary>
    public static SKEncodedImageFormat FormatOf(string path)
    {
        CheckPath(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => SKEncodedImageFormat.Png,
            ".jpg" or ".jpeg" => SKEncodedImageFormat.Jpeg,
            var other => throw new ArgumentException(
                $"'{path}': {(other.Length == 0 ? "no extension" : $"'{other}'")} is not an image format written here; name the file .png or .jpg.", nameof(path)),
        };
    }

    private static void WriteEncoded(string path, byte[] bytes)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        LrpGen.IO.OutputFiles.Write(path, stream => stream.Write(bytes, 0, bytes.Length));
    }

    internal static void CheckPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("the output path is empty.", nameof(path));
    }
}
