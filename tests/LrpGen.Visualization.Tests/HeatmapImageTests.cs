using System;
using System.IO;
using LrpGen.Visualization;
using SkiaSharp;
using TorchSharp;
using Xunit;

namespace LrpGen.Visualization.Tests;

/// <summary>Heatmaps written as PNG and decoded again: colours of zero, positive and negative relevance, the
/// enlargement, the panels side by side, the scaling options, and argument errors.</summary>
public sealed class HeatmapImageTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrpgen-vis-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private string PathFor(string name) => Path.Combine(_folder, name);

    internal static SKBitmap Decode(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        return SKBitmap.Decode(bytes) ?? throw new InvalidOperationException($"{path} does not decode");
    }

    /// <summary>A 4x4 map: 0 everywhere but +2 at (1, 0), -2 at (2, 0), +1 at (3, 0), -1 at (0, 3).</summary>
    private static RelevanceMap Sample()
    {
        var values = new float[4, 4];
        values[0, 1] = 2f;
        values[0, 2] = -2f;
        values[0, 3] = 1f;
        values[3, 0] = -1f;
        return RelevanceMap.FromArray(values);
    }

    /// <summary>The colour at the centre of input pixel (x, y) of panel <paramref name="panel"/>.</summary>
    private static SKColor At(SKBitmap bitmap, int panel, int x, int y, int factor, int width, int gap = 8) =>
        bitmap.GetPixel(gap + panel * (width * factor + gap) + x * factor + factor / 2, gap + y * factor + factor / 2);

    private static void AssertColour(byte r, byte g, byte b, SKColor actual, int tolerance = 0)
    {
        Assert.True(Math.Abs(actual.Red - r) <= tolerance && Math.Abs(actual.Green - g) <= tolerance && Math.Abs(actual.Blue - b) <= tolerance,
            $"expected ({r}, {g}, {b}), got ({actual.Red}, {actual.Green}, {actual.Blue})");
    }

    [Fact]
    public void ColourMapIsWhiteAtZeroRedForPositiveBlueForNegative()
    {
        AssertColour(255, 255, 255, RelevanceColorMap.Map(0));
        AssertColour(255, 0, 0, RelevanceColorMap.Map(1));
        AssertColour(0, 0, 255, RelevanceColorMap.Map(-1));
        AssertColour(255, 128, 128, RelevanceColorMap.Map(0.5));
        AssertColour(128, 128, 255, RelevanceColorMap.Map(-0.5));
        AssertColour(255, 0, 0, RelevanceColorMap.Map(7));        // clipped
        AssertColour(0, 0, 255, RelevanceColorMap.Map(-7));
        Assert.Throws<ArgumentException>(() => RelevanceColorMap.Map(double.NaN));
    }

    [Fact]
    public void HeatmapPngDecodesToWhiteRedAndBlue()
    {
        var path = PathFor("heatmap.png");
        HeatmapImage.WritePng(path, Sample());
        using var bitmap = Decode(path);
        // 4 px enlarged by 64 to 256 px, 8 px of white around it.
        Assert.Equal(8 + 256 + 8, bitmap.Width);
        Assert.Equal(8 + 256 + 8, bitmap.Height);
        AssertColour(255, 255, 255, At(bitmap, 0, 0, 0, 64, 4));     // zero
        AssertColour(255, 0, 0, At(bitmap, 0, 1, 0, 64, 4));         // +max
        AssertColour(0, 0, 255, At(bitmap, 0, 2, 0, 64, 4));         // -max
        AssertColour(255, 128, 128, At(bitmap, 0, 3, 0, 64, 4));     // +max / 2
        AssertColour(128, 128, 255, At(bitmap, 0, 0, 3, 64, 4));     // -max / 2
        AssertColour(255, 255, 255, bitmap.GetPixel(2, 2));           // margin
        // Nearest neighbour: a whole 64 x 64 block has one colour.
        for (int dy = 0; dy < 64; dy += 9)
            for (int dx = 0; dx < 64; dx += 9)
                AssertColour(255, 0, 0, bitmap.GetPixel(8 + 64 + dx, 8 + dy));
    }

    [Theory]
    [InlineData("heatmap.jpg")]
    [InlineData("heatmap.JPEG")]
    public void JpegByExtensionDecodesToTheSameColours(string name)
    {
        var path = PathFor(name);
        Directory.CreateDirectory(_folder);
        File.WriteAllText(path, "an older file");
        using (var rendered = HeatmapImage.Render(Sample()))
            HeatmapImage.Write(path, rendered);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, bytes[..3]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.Equal(8 + 256 + 8, bitmap.Width);
        // JPEG is lossy: the centre of each 64 px block within a few levels.
        AssertColour(255, 255, 255, At(bitmap, 0, 0, 0, 64, 4), tolerance: 6);
        AssertColour(255, 0, 0, At(bitmap, 0, 1, 0, 64, 4), tolerance: 6);
        AssertColour(0, 0, 255, At(bitmap, 0, 2, 0, 64, 4), tolerance: 6);
        // Replaced in place: no temporary file left beside it.
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Theory]
    [InlineData("heatmap.bmp")]
    [InlineData("heatmap")]
    public void AnotherExtensionIsRefusedAndNothingIsWritten(string name)
    {
        var path = PathFor(name);
        using var rendered = HeatmapImage.Render(Sample());
        var e = Assert.Throws<ArgumentException>(() => HeatmapImage.Write(path, rendered));
        Assert.Contains(".png or .jpg", e.Message);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData(32, 32, 256, 256, 256)]
    [InlineData(100, 50, 256, 300, 150)]
    [InlineData(300, 200, 256, 300, 200)]
    [InlineData(7, 3, 50, 56, 24)]
    public void PanelsAreEnlargedByAWholeFactorToTheMinimumSize(int width, int height, int minSize, int panelWidth, int panelHeight)
    {
        var map = RelevanceMap.FromValues(new float[width * height], width, height);
        using var bitmap = HeatmapImage.Render(map, options: new HeatmapOptions { MinPanelSize = minSize, Gap = 0 });
        Assert.Equal(panelWidth, bitmap.Width);
        Assert.Equal(panelHeight, bitmap.Height);
    }

    private static RgbImage Image4x4()
    {
        var chw = new float[3 * 16];
        for (int i = 0; i < 16; i++)
        {
            chw[i] = 0.2f;            // R
            chw[16 + i] = 0.6f;       // G
            chw[32 + i] = 1.0f;       // B
        }
        return RgbImage.FromChw(chw, 4, 4);
    }

    [Fact]
    public void ImageAndOverlaySideBySide()
    {
        var path = PathFor("overlay.png");
        HeatmapImage.WritePng(path, Sample(), Image4x4());
        using var bitmap = Decode(path);
        Assert.Equal(8 + 2 * (256 + 8), bitmap.Width);
        Assert.Equal(8 + 256 + 8, bitmap.Height);
        AssertColour(51, 153, 255, At(bitmap, 0, 1, 0, 64, 4));           // the original image
        var zero = At(bitmap, 1, 0, 0, 64, 4);                             // no relevance: grey image
        Assert.True(zero.Red == zero.Green && zero.Green == zero.Blue, $"zero relevance should show the grey image, got {zero}");
        var positive = At(bitmap, 1, 1, 0, 64, 4);
        Assert.True(positive.Red > 200 && positive.Green < 80 && positive.Blue < 80, $"+max should be red, got {positive}");
        var negative = At(bitmap, 1, 2, 0, 64, 4);
        Assert.True(negative.Blue > 200 && negative.Red < 80 && negative.Green < 80, $"-max should be blue, got {negative}");
    }

    [Fact]
    public void ThreePanelLayoutShowsImageHeatmapAndOverlay()
    {
        var options = new HeatmapOptions { Layout = HeatmapLayout.ImageHeatmapOverlay, MinPanelSize = 40, Gap = 4 };
        using var bitmap = HeatmapImage.Render(Sample(), Image4x4(), options);
        Assert.Equal(4 + 3 * (40 + 4), bitmap.Width);
        AssertColour(51, 153, 255, At(bitmap, 0, 0, 0, 10, 4, gap: 4));
        AssertColour(255, 255, 255, At(bitmap, 1, 0, 0, 10, 4, gap: 4));
        AssertColour(255, 0, 0, At(bitmap, 1, 1, 0, 10, 4, gap: 4));
        AssertColour(0, 0, 255, At(bitmap, 1, 2, 0, 10, 4, gap: 4));
        var overlay = At(bitmap, 2, 1, 0, 10, 4, gap: 4);
        Assert.True(overlay.Red > overlay.Green && overlay.Red > overlay.Blue);
    }

    [Fact]
    public void PercentileAndFixedScaleSaturate()
    {
        // 15 pixels of 1 and one outlier of 100: scaled by max, the ones are almost white; by the median, red.
        var values = new float[16];
        Array.Fill(values, 1f);
        values[5] = 100f;
        var map = RelevanceMap.FromValues(values, 4, 4);
        Assert.Equal(1.0, map.PercentileAbs(50), 6);
        Assert.Equal(100.0, map.PercentileAbs(100), 6);

        using (var byMax = HeatmapImage.Render(map, options: new HeatmapOptions { MinPanelSize = 4, Gap = 0 }))
            AssertColour(255, 252, 252, byMax.GetPixel(0, 0), tolerance: 1);
        using (var byPercentile = HeatmapImage.Render(map, options: new HeatmapOptions { MinPanelSize = 4, Gap = 0, Percentile = 50 }))
        {
            AssertColour(255, 0, 0, byPercentile.GetPixel(0, 0));
            AssertColour(255, 0, 0, byPercentile.GetPixel(1, 1));   // the outlier, clipped
        }
        using (var fixedScale = HeatmapImage.Render(map, options: new HeatmapOptions { MinPanelSize = 4, Gap = 0, Scale = 2 }))
            AssertColour(255, 128, 128, fixedScale.GetPixel(0, 0));
    }

    [Fact]
    public void AllZeroMapIsWhite()
    {
        using var bitmap = HeatmapImage.Render(RelevanceMap.FromValues(new float[9], 3, 3), options: new HeatmapOptions { MinPanelSize = 3, Gap = 0 });
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
                AssertColour(255, 255, 255, bitmap.GetPixel(x, y));
    }

    [Fact]
    public void TensorsInTensorsOut()
    {
        using var relevance = torch.tensor(new float[] { 0, 3, -3, 0 }, new long[] { 2, 2 });
        using var image = torch.full(new long[] { 1, 3, 2, 2 }, 0.5f);
        var path = PathFor(Path.Combine("nested", "t.png"));
        HeatmapImage.WritePng(path, relevance, image, new HeatmapOptions { Layout = HeatmapLayout.ImageAndHeatmap, MinPanelSize = 2, Gap = 0 });
        using var bitmap = Decode(path);
        Assert.Equal(4, bitmap.Width);
        Assert.Equal(2, bitmap.Height);
        AssertColour(128, 128, 128, bitmap.GetPixel(0, 0));
        AssertColour(255, 255, 255, bitmap.GetPixel(2, 0));
        AssertColour(255, 0, 0, bitmap.GetPixel(3, 0));
        AssertColour(0, 0, 255, bitmap.GetPixel(2, 1));

        using var pixels = torch.ones(3, 2, 2);
        var map = RelevanceMap.FromPixelRelevance(pixels);
        Assert.Equal(3f, map[1, 1]);
        using var normalised = torch.full(new long[] { 3, 1, 1 }, 0f);
        var (r, g, b) = RgbImage.FromTensor(normalised, low: -1, high: 1)[0, 0];
        Assert.Equal((128, 128, 128), ((int)r, (int)g, (int)b));
    }

    [Fact]
    public void ArgumentErrors()
    {
        var map = Sample();
        Assert.Throws<ArgumentNullException>(() => HeatmapImage.Render(null!));
        Assert.Throws<ArgumentException>(() => HeatmapImage.Render(map, RgbImage.FromChw(new float[3 * 6], 2, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { MinPanelSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { Percentile = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { Percentile = 100.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { Scale = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { Opacity = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { Gap = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HeatmapImage.Render(map, options: new HeatmapOptions { Layout = (HeatmapLayout)42 }));
        Assert.Throws<ArgumentException>(() => HeatmapImage.WritePng(" ", map));
        Assert.Throws<ArgumentNullException>(() => HeatmapImage.WritePng(null!, map));

        Assert.Throws<ArgumentException>(() => RelevanceMap.FromValues(new float[5], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => RelevanceMap.FromValues(Array.Empty<float>(), 0, 2));
        Assert.Throws<ArgumentException>(() => RelevanceMap.FromValues(new[] { 0f, float.NaN, 0f, 0f }, 2, 2));
        Assert.Throws<ArgumentException>(() => RelevanceMap.FromArray(new[,] { { 0f, float.PositiveInfinity } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.PercentileAbs(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = map[4, 0]);
        using (var threeD = torch.zeros(3, 4, 4))
            Assert.Throws<ArgumentException>(() => RelevanceMap.FromTensor(threeD));
        using (var twoD = torch.zeros(4, 4))
        {
            Assert.Throws<ArgumentException>(() => RelevanceMap.FromPixelRelevance(twoD));
            Assert.Throws<ArgumentException>(() => RgbImage.FromTensor(twoD));
        }
        using (var fourChannels = torch.zeros(4, 2, 2))
            Assert.Throws<ArgumentException>(() => RgbImage.FromTensor(fourChannels));

        Assert.Throws<ArgumentException>(() => RgbImage.FromChw(new float[10], 2, 2));
        Assert.Throws<ArgumentException>(() => RgbImage.FromChw(new float[12], 2, 2, low: 1, high: 1));
        Assert.Throws<ArgumentException>(() => RgbImage.FromRgbBytes(new byte[11], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => RgbImage.FromRgbBytes(Array.Empty<byte>(), 0, 0));
    }
}
