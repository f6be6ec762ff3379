using System;
using System.Linq;
using System.Security.Cryptography;
using LrpGen.Visualization;
using SkiaSharp;
using Xunit;

namespace LrpGen.Visualization.Tests;

/// <summary>Caption text in the embedded Inter font: the font is the one shipped, every caption character has a glyph,
/// the ink lands where the font's own glyph bounds say, and the pixels are fixed (a pinned hash), so that a picture
/// does not depend on the machine's fonts.</summary>
public sealed class CaptionTextTests
{
    private const string Sample = "ViT-B/16 (AttnLRP): 97.5% \u22121 +1";

    /// <summary>SHA-256 of the RGBA bytes of <see cref="Sample"/> drawn by <see cref="Render"/> at 15 px, with
    /// SkiaSharp 3.119.4 and Inter 3.019. It changes only when either changes (then check the picture and update it).</summary>
    private const string SampleHash = "d8d679b7876cdf11e84dd21c7ad349631c71c316ef1a8d34413a149bc3ffa071";

    private static SKBitmap Render(string text, float size, SKTextAlign align = SKTextAlign.Left, float x = 8)
    {
        var bitmap = new SKBitmap(new SKImageInfo(480, 40, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        CaptionText.Draw(canvas, text, x, 4, size, SKColors.Black, align);
        canvas.Flush();
        return bitmap;
    }

    /// <summary>Columns and rows that hold any ink (a pixel that is not white).</summary>
    private static SKRectI InkBounds(SKBitmap bitmap)
    {
        int left = int.MaxValue, top = int.MaxValue, right = -1, bottom = -1;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) != SKColors.White)
                {
                    left = Math.Min(left, x);
                    right = Math.Max(right, x + 1);
                    top = Math.Min(top, y);
                    bottom = Math.Max(bottom, y + 1);
                }
        return right < 0 ? SKRectI.Empty : new SKRectI(left, top, right, bottom);
    }

    private static string Hash(SKBitmap bitmap) => Convert.ToHexString(SHA256.HashData(bitmap.GetPixelSpan())).ToLowerInvariant();

    [Fact]
    public void TheEmbeddedFontIsInterWithEveryCaptionCharacter()
    {
        var typeface = CaptionText.Typeface;
        Assert.Equal("Inter", typeface.FamilyName);
        Assert.Equal(SKFontStyleWeight.Normal, (SKFontStyleWeight)typeface.FontWeight);
        using var font = CaptionText.Font(12);
        string printable = new(Enumerable.Range(32, 95).Select(c => (char)c).ToArray());
        Assert.True(font.ContainsGlyphs(printable + "\u2212\u00e9\u00fc\u00df\u00b5\u00b1\u00d7"), "a caption character has no glyph in Inter");
    }

    [Fact]
    public void TheSameCaptionGivesTheSamePixels()
    {
        using var first = Render(Sample, 15);
        using var second = Render(Sample, 15);
        using var other = Render(Sample.Replace('7', '1'), 15);

        Assert.Equal(Hash(first), Hash(second));
        Assert.NotEqual(Hash(first), Hash(other));
        string hash = Hash(first);
        Assert.True(hash == SampleHash, $"the caption's pixels changed: their hash is now {hash}");
    }

    /// <summary>The ink is the font's glyph bounds (from an SKFont of its own over the same file) placed at the pen
    /// position: left edge at x, baseline where the line box centres the font's ascent and descent.</summary>
    [Theory]
    [InlineData(15f, SKTextAlign.Left)]
    [InlineData(12.75f, SKTextAlign.Center)]
    [InlineData(24f, SKTextAlign.Right)]
    public void InkLiesWithinTheFontsGlyphBounds(float size, SKTextAlign align)
    {
        using var stream = typeof(CaptionText).Assembly.GetManifestResourceStream(CaptionText.FontResource)!;
        using var typeface = SKTypeface.FromStream(stream);
        using var font = new SKFont(typeface, size) { Hinting = SKFontHinting.None, LinearMetrics = true };
        float advance = font.MeasureText(Sample, out var glyphs);
        float x = align switch { SKTextAlign.Center => 240, SKTextAlign.Right => 472, _ => 8 };
        float penX = align switch { SKTextAlign.Center => x - advance / 2, SKTextAlign.Right => x - advance, _ => x };
        float lineBox = MathF.Ceiling(size * 1.35f);
        float baseline = 4 + (lineBox - (font.Metrics.Descent - font.Metrics.Ascent)) / 2 - font.Metrics.Ascent;
        var expected = new SKRect(penX + glyphs.Left, baseline + glyphs.Top, penX + glyphs.Right, baseline + glyphs.Bottom);

        using var bitmap = Render(Sample, size, align, x);
        var ink = InkBounds(bitmap);

        Assert.False(ink.IsEmpty, "no ink was drawn");
        Assert.InRange(ink.Left, MathF.Floor(expected.Left) - 1, MathF.Floor(expected.Left) + 1);
        Assert.InRange(ink.Right, MathF.Ceiling(expected.Right) - 1, MathF.Ceiling(expected.Right) + 1);
        Assert.InRange(ink.Top, MathF.Floor(expected.Top) - 1, MathF.Floor(expected.Top) + 1);
        Assert.InRange(ink.Bottom, MathF.Ceiling(expected.Bottom) - 1, MathF.Ceiling(expected.Bottom) + 1);
        Assert.Equal(advance, CaptionText.Measure(Sample, size), 3);
    }

    [Fact]
    public void WidthGrowsLinearlyWithSizeAndEmptyTextDrawsNothing()
    {
        Assert.InRange(CaptionText.Measure(Sample, 20), 2 * CaptionText.Measure(Sample, 10) - 0.05f, 2 * CaptionText.Measure(Sample, 10) + 0.05f);
        Assert.Equal(0, CaptionText.Measure("", 15));
        using var empty = Render("", 15);
        Assert.True(InkBounds(empty).IsEmpty);
    }
}
