using System;
using System.Collections.Generic;
using System.IO;
using SkiaSharp;

namespace LrpGen.Visualization;

/// <summary>Which font draws captions.</summary>
public enum CaptionFont
{
    /// <summary>A sans-serif font file of the system (DejaVu Sans, Liberation Sans, Noto Sans, Arial, ...) when one
    /// is found and has the Latin glyphs; else <see cref="BuiltIn"/>. Headless machines without fonts still get captions.</summary>
    Auto,
    /// <summary>The library's own 5x7 pixel font: the same picture on every machine.</summary>
    BuiltIn,
}

/// <summary>Measures and draws one line of caption text with a system typeface or the built-in pixel font.</summary>
internal sealed class CaptionText
{
    private static readonly Lazy<SKTypeface?> SystemTypeface = new(FindSystemTypeface);
    private readonly SKTypeface? _typeface;

    public CaptionText(CaptionFont font)
    {
        _typeface = font == CaptionFont.Auto ? SystemTypeface.Value : null;
    }

    public bool UsesSystemFont => _typeface is not null;

    /// <summary>Height of a line box for a text size (the built-in font keeps a font pixel free above and below).</summary>
    public float LineHeight(float size) => _typeface is null
        ? Math.Max(MathF.Ceiling(size * 1.35f), (BuiltInFont.CapHeight + BuiltInFont.Descent + 2) * BuiltInFont.PixelFor(size))
        : MathF.Ceiling(size * 1.35f);

    public float Measure(string text, float size)
    {
        if (_typeface is null) return BuiltInFont.Measure(text, BuiltInFont.PixelFor(size));
        using var font = new SKFont(_typeface, size);
        return font.MeasureText(text);
    }

    /// <summary>Draws <paramref name="text"/> in the line box whose top is <paramref name="top"/>; <paramref name="x"/>
    /// is the left edge, the centre or the right edge as <paramref name="align"/> says.</summary>
    public void Draw(SKCanvas canvas, string text, float x, float top, float size, SKColor colour, SKTextAlign align = SKTextAlign.Left)
    {
        float width = Measure(text, size);
        float left = align switch { SKTextAlign.Center => x - width / 2, SKTextAlign.Right => x - width, _ => x };
        float line = LineHeight(size);
        if (_typeface is null)
        {
            int pixel = BuiltInFont.PixelFor(size);
            float glyphTop = top + (line - (BuiltInFont.CapHeight + BuiltInFont.Descent) * pixel) / 2;
            BuiltInFont.Draw(canvas, text, MathF.Round(left), MathF.Round(glyphTop), pixel, colour);
            return;
        }
        using var font = new SKFont(_typeface, size) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var paint = new SKPaint { Color = colour, IsAntialias = true };
        var metrics = font.Metrics;
        float textHeight = metrics.Descent - metrics.Ascent;
        float baseline = top + (line - textHeight) / 2 - metrics.Ascent;
        canvas.DrawText(text, left, baseline, SKTextAlign.Left, font, paint);
    }

    private static SKTypeface? FindSystemTypeface()
    {
        try
        {
            foreach (var file in CandidateFiles())
            {
                if (!File.Exists(file)) continue;
                var typeface = SKTypeface.FromFile(file);
                if (Usable(typeface)) return typeface;
                typeface?.Dispose();
            }
            foreach (var family in new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "sans-serif" })
            {
                var typeface = SKFontManager.Default.MatchFamily(family);
                if (Usable(typeface)) return typeface;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A font that cannot be read is no font: the built-in one draws the captions.
        }
        return null;
    }

    private static bool Usable(SKTypeface? typeface)
    {
        if (typeface is null || typeface.GlyphCount < 100) return false;
        using var font = new SKFont(typeface, 12);
        return font.ContainsGlyphs("AZaz09()%+-.,:");
    }

    private static IEnumerable<string> CandidateFiles()
    {
        string[] linux =
        {
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
        };
        foreach (var f in linux) yield return f;
        yield return "/System/Library/Fonts/Supplemental/Arial.ttf";
        yield return "/Library/Fonts/Arial.ttf";
        string windows = Environment.GetFolderPath(Environment.SpecialFolder.Fonts);
        if (!string.IsNullOrEmpty(windows))
        {
            yield return Path.Combine(windows, "arial.ttf");
            yield return Path.Combine(windows, "segoeui.ttf");
        }
    }
}
