using System;
using System.IO;
using System.Reflection;
using SkiaSharp;

namespace LrpGen.Visualization;

/// <summary>Measures and draws one line of caption text in Inter Regular, a TTF embedded in this assembly (see
/// Fonts/README.md), so that no system font is asked for. Glyphs are drawn as their outlines, unhinted and with
/// linear advances, and filled by Skia's own path rasterizer: the same SkiaSharp and the same font file give the same
/// pixels on every machine, whatever fonts or font back end it has.</summary>
internal static class CaptionText
{
    public const string FontResource = "LrpGen.Visualization.Fonts.Inter-Regular.ttf";

    private static readonly Lazy<SKTypeface> LazyTypeface = new(LoadTypeface);

    public static SKTypeface Typeface => LazyTypeface.Value;

    /// <summary>Height of a line box for a text size.</summary>
    public static float LineHeight(float size) => MathF.Ceiling(size * 1.35f);

    /// <summary>The advance width of <paramref name="text"/>.</summary>
    public static float Measure(string text, float size)
    {
        using var font = Font(size);
        return font.MeasureText(text);
    }

    /// <summary>Draws <paramref name="text"/> in the line box whose top is <paramref name="top"/>; <paramref name="x"/>
    /// is the left edge, the centre or the right edge as <paramref name="align"/> says. The font's ascent and descent
    /// are centred in the line box.</summary>
    public static void Draw(SKCanvas canvas, string text, float x, float top, float size, SKColor colour, SKTextAlign align = SKTextAlign.Left)
    {
        if (text.Length == 0) return;
        using var font = Font(size);
        float width = font.MeasureText(text);
        float left = align switch { SKTextAlign.Center => x - width / 2, SKTextAlign.Right => x - width, _ => x };
        var metrics = font.Metrics;
        float baseline = top + (LineHeight(size) - (metrics.Descent - metrics.Ascent)) / 2 - metrics.Ascent;
        using var outline = font.GetTextPath(text, new SKPoint(left, baseline));
        using var paint = new SKPaint { Color = colour, IsAntialias = true, Style = SKPaintStyle.Fill };
        canvas.DrawPath(outline, paint);
    }

    /// <summary>Inter at <paramref name="size"/> pixels, unhinted, with advances that scale linearly with the size.</summary>
    public static SKFont Font(float size) =>
        new(Typeface, size) { Hinting = SKFontHinting.None, LinearMetrics = true, Subpixel = true, Edging = SKFontEdging.Antialias };

    private static SKTypeface LoadTypeface()
    {
        using var stream = typeof(CaptionText).Assembly.GetManifestResourceStream(FontResource)
            ?? throw new InvalidOperationException($"LrpGen.Visualization lacks its embedded font resource '{FontResource}'; rebuild the library.");
        return SKTypeface.FromStream(stream)
            ?? throw new InvalidDataException($"SkiaSharp cannot read the embedded font '{FontResource}'.");
    }
}
