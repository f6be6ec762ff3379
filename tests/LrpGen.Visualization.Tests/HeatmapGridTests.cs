using System;
using System.IO;
using LrpGen.Visualization;
using SkiaSharp;
using Xunit;

namespace LrpGen.Visualization.Tests;

/// <summary>Grids of several examples: layout, cell colours, captions, box and marker,
/// argument errors.</summary>
public sealed class HeatmapGridTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrpgen-grid-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static RelevanceMap Uniform(float value) => RelevanceMap.FromValues(new[] { value, value, value, value }, 2, 2);

    private static RgbImage Grey() => RgbImage.FromRgbBytes(new byte[] { 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90, 90 }, 2, 2);

    private static int DarkPixels(SKBitmap bitmap, int top, int bottom)
    {
        int count = 0;
        for (int y = Math.Max(0, top); y < Math.Min(bitmap.Height, bottom); y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 100 && c.Green < 100 && c.Blue < 100) count++;
            }
        return count;
    }

    [Fact]
    public void GridHasCellsInTheirColoursAndVisibleText()
    {
        var grid = new HeatmapGrid(new[] { "image", "positive", "negative" })
        {
            Title = "Title: all printable ASCII !\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~",
            Options = new HeatmapOptions { MinPanelSize = 64, Gap = 8 },
        };
        grid.AddRow("first", GridCell.ForImage(Grey()), GridCell.ForHeatmap(Uniform(2f), caption: "+2"), GridCell.ForHeatmap(Uniform(-1f), caption: "-1"));
        grid.AddRow(null, GridCell.Blank, GridCell.ForHeatmap(Uniform(0f)), GridCell.ForHeatmap(Uniform(1f), Grey(), "overlay"));
        Assert.Equal(3, grid.ColumnCount);
        Assert.Equal(2, grid.RowCount);

        var path = Path.Combine(_folder, "grid.png");
        grid.WritePng(path);
        using var bitmap = HeatmapImageTests.Decode(path);
        Assert.True(bitmap.Width >= 3 * 64 + 2 * 8, $"width {bitmap.Width}");
        Assert.True(bitmap.Height >= 2 * 64 + 8, $"height {bitmap.Height}");

        // Find the cells by their colours: a pure red and a pure blue 64 x 64 block exist, and a white one.
        Assert.True(CountColour(bitmap, new SKColor(255, 0, 0)) >= 64 * 64, "the +2 heatmap is not pure red");
        Assert.True(CountColour(bitmap, new SKColor(0, 0, 255)) >= 64 * 64, "the -1 heatmap is not pure blue");
        Assert.True(CountColour(bitmap, new SKColor(90, 90, 90)) >= 64 * 64, "the image cell is missing");
        // Text above the cells (title and column titles) and the colour bar's legend: dark ink exists.
        Assert.True(DarkPixels(bitmap, 0, 40) > 50, "no title text was drawn");
        Assert.True(DarkPixels(bitmap, bitmap.Height - 24, bitmap.Height) > 20, "no legend text was drawn");
    }

    private static int CountColour(SKBitmap bitmap, SKColor colour)
    {
        int count = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
                if (bitmap.GetPixel(x, y) == colour) count++;
        return count;
    }

    [Fact]
    public void BoxAndMarkerAreDrawnInBlack()
    {
        var map = RelevanceMap.FromValues(new float[16 * 16], 16, 16);
        var grid = new HeatmapGrid(new[] { "" }) { Options = new HeatmapOptions { MinPanelSize = 160, Gap = 8 }, ShowColorBar = false };
        grid.AddRow(null, GridCell.ForHeatmap(map).WithBox(2, 2, 8, 8).WithMarker(12, 12));
        using var bitmap = grid.Render();
        Assert.True(DarkPixels(bitmap, 0, bitmap.Height) > 200, "box and marker should draw dark strokes");
        // The inside of the box stays white (zero relevance).
        int left = (bitmap.Width - 160) / 2;
        Assert.Equal(SKColors.White, bitmap.GetPixel(left + 50, bitmap.Height - 8 - 160 + 50));
    }

    [Fact]
    public void ArgumentErrors()
    {
        Assert.Throws<ArgumentNullException>(() => new HeatmapGrid(null!));
        Assert.Throws<ArgumentException>(() => new HeatmapGrid(Array.Empty<string>()));
        var grid = new HeatmapGrid(new[] { "a", "b" });
        Assert.Throws<InvalidOperationException>(() => grid.Render());                       // no rows
        Assert.Throws<ArgumentException>(() => grid.AddRow("x", GridCell.Blank));            // one cell for two columns
        Assert.Throws<ArgumentException>(() => grid.AddRow("x", GridCell.Blank, null!));
        Assert.Throws<ArgumentNullException>(() => GridCell.ForHeatmap(null!));
        Assert.Throws<ArgumentException>(() => GridCell.ForHeatmap(Uniform(1), RgbImage.FromRgbBytes(new byte[27], 3, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => GridCell.ForHeatmap(Uniform(1)).WithBox(0, 0, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GridCell.ForHeatmap(Uniform(1)).WithBox(1, 0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GridCell.ForImage(Grey()).WithMarker(2, 0));
        Assert.Throws<InvalidOperationException>(() => GridCell.Blank.WithBox(0, 0, 1, 1));
        grid.AddRow(null, GridCell.Blank, GridCell.ForHeatmap(Uniform(1)));
        var bad = new HeatmapGrid(new[] { "a" }) { TextSize = 1 };
        bad.AddRow(null, GridCell.Blank);
        Assert.Throws<InvalidOperationException>(() => bad.Render());
        Assert.Throws<ArgumentException>(() => grid.WritePng(""));
    }
}
