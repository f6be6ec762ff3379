using System;
using System.Collections.Generic;
using System.Linq;
using SkiaSharp;

namespace LrpGen.Visualization;

/// <summary>One cell of a <see cref="HeatmapGrid"/>: an image, a heatmap (optionally over an image) or nothing,
/// with an optional caption below it, a box outline and a point marker (in input pixels).</summary>
public sealed class GridCell
{
    private GridCell(RgbImage? image, RelevanceMap? map, string? caption, SKRectI? box, SKPointI? marker)
    {
        Image = image;
        Map = map;
        Caption = caption;
        Box = box;
        Marker = marker;
    }

    internal RgbImage? Image { get; }
    internal RelevanceMap? Map { get; }
    internal string? Caption { get; }
    internal SKRectI? Box { get; }
    internal SKPointI? Marker { get; }

    internal int Width => Map?.Width ?? Image?.Width ?? 0;
    internal int Height => Map?.Height ?? Image?.Height ?? 0;

    /// <summary>An empty cell.</summary>
    public static GridCell Blank { get; } = new(null, null, null, null, null);

    /// <summary>An image cell.</summary>
    public static GridCell ForImage(RgbImage image, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new GridCell(image, null, caption, null, null);
    }

    /// <summary>A heatmap cell; with <paramref name="overlayOn"/>, blended over that image.</summary>
    public static GridCell ForHeatmap(RelevanceMap map, RgbImage? overlayOn = null, string? caption = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (overlayOn is not null) Panels.CheckSameSize(map, overlayOn);
        return new GridCell(overlayOn, map, caption, null, null);
    }

    /// <summary>The same cell with the outline of columns [x0, x1) and rows [y0, y1).</summary>
    public GridCell WithBox(int x0, int y0, int x1, int y1)
    {
        if (Width == 0) throw new InvalidOperationException("a blank cell has no pixels to outline.");
        if (x0 < 0 || y0 < 0 || x1 > Width || y1 > Height || x0 >= x1 || y0 >= y1)
            throw new ArgumentOutOfRangeException(nameof(x0), $"the box [{x0}, {x1}) x [{y0}, {y1}) is empty or leaves the {Width}x{Height} cell.");
        return new GridCell(Image, Map, Caption, new SKRectI(x0, y0, x1, y1), Marker);
    }

    /// <summary>The same cell with a ring around pixel (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public GridCell WithMarker(int x, int y)
    {
        if (Width == 0) throw new InvalidOperationException("a blank cell has no pixels to mark.");
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"pixel ({x}, {y}) is outside the {Width}x{Height} cell.");
        return new GridCell(Image, Map, Caption, Box, new SKPointI(x, y));
    }
}

/// <summary>Several examples in a table: column titles on top, an optional label left of each row, an optional
/// caption under each cell, and a colour bar of the heatmaps' scale below, all text in the embedded Inter font
/// (<see cref="CaptionText"/>). Written as PNG.</summary>
public sealed class HeatmapGrid
{
    private const int Margin = 16;
    private readonly string[] _titles;
    private readonly List<(string? Label, GridCell[] Cells)> _rows = new();

    /// <summary>A grid with these column titles (one a column; empty strings for none).</summary>
    public HeatmapGrid(IEnumerable<string> columnTitles)
    {
        ArgumentNullException.ThrowIfNull(columnTitles);
        _titles = columnTitles.ToArray();
        if (_titles.Length == 0) throw new ArgumentException("a grid needs at least one column.", nameof(columnTitles));
        if (_titles.Any(t => t is null)) throw new ArgumentException("a column title is null.", nameof(columnTitles));
    }

    /// <summary>A line above the table.</summary>
    public string? Title { get; init; }

    /// <summary>Scaling, opacity and gaps of the heatmaps; <see cref="HeatmapOptions.MinPanelSize"/> is the cell size
    /// (default here 128). The layout option is not used: each cell says what it shows.</summary>
    public HeatmapOptions Options { get; init; } = new() { MinPanelSize = 128 };

    /// <summary>Text size of titles and labels in pixels (captions are 85% of it).</summary>
    public float TextSize { get; init; } = 15f;

    /// <summary>Whether a colour bar with its legend goes below the table (default true).</summary>
    public bool ShowColorBar { get; init; } = true;

    /// <summary>The colour bar's legend; null: one that names the scaling of <see cref="Options"/>.</summary>
    public string? ColorBarLabel { get; init; }

    /// <summary>The number of columns (titles).</summary>
    public int ColumnCount => _titles.Length;

    /// <summary>The number of rows added so far.</summary>
    public int RowCount => _rows.Count;

    /// <summary>Appends a row: one cell a column, with an optional label left of it.</summary>
    public void AddRow(string? label, params GridCell[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _titles.Length)
            throw new ArgumentException($"{cells.Length} cells for {_titles.Length} columns.", nameof(cells));
        if (cells.Any(c => c is null)) throw new ArgumentException("a cell is null (use GridCell.Blank).", nameof(cells));
        _rows.Add((label, (GridCell[])cells.Clone()));
    }

    /// <summary>The picture; the caller owns the bitmap.</summary>
    public SKBitmap Render()
    {
        var options = Options ?? throw new InvalidOperationException("Options is null.");
        options.Validate();
        if (!(TextSize >= 4 && TextSize <= 200)) throw new InvalidOperationException($"TextSize {TextSize} is outside [4, 200].");
        if (_rows.Count == 0) throw new InvalidOperationException("the grid has no rows.");

        float size = TextSize, small = TextSize * 0.85f;
        float line = CaptionText.LineHeight(size), smallLine = CaptionText.LineHeight(small);
        int gap = options.Gap;
        var cells = _rows.SelectMany(r => r.Cells).Where(c => c.Width > 0).ToList();
        int slotWidth = 1, slotHeight = 1;
        foreach (var c in cells)
        {
            int f = Panels.Factor(c.Width, c.Height, options.MinPanelSize);
            slotWidth = Math.Max(slotWidth, c.Width * f);
            slotHeight = Math.Max(slotHeight, c.Height * f);
        }

        // Columns are as wide as the widest cell, column title or caption.
        slotWidth = Math.Max(slotWidth, (int)MathF.Ceiling(_titles.Max(t => CaptionText.Measure(t, size))));
        foreach (var c in _rows.SelectMany(r => r.Cells))
            if (!string.IsNullOrEmpty(c.Caption)) slotWidth = Math.Max(slotWidth, (int)MathF.Ceiling(CaptionText.Measure(c.Caption!, small)));

        float labelWidth = _rows.Any(r => !string.IsNullOrEmpty(r.Label))
            ? _rows.Max(r => string.IsNullOrEmpty(r.Label) ? 0 : CaptionText.Measure(r.Label!, size)) + gap * 1.5f : 0;
        float tableWidth = _titles.Length * slotWidth + (_titles.Length - 1) * gap;
        float titleHeight = string.IsNullOrEmpty(Title) ? 0 : CaptionText.LineHeight(size * 1.15f) + gap / 2f;
        var rowHeights = _rows.Select(r => slotHeight + (r.Cells.Any(c => !string.IsNullOrEmpty(c.Caption)) ? smallLine : 0)).ToList();
        string legend = ColorBarLabel ?? DefaultLegend(options);
        float barWidth = Math.Min(320f, tableWidth), barHeight = 12f;
        float barBlock = ShowColorBar ? gap * 2 + barHeight + smallLine + smallLine : 0;

        float width = Margin * 2 + labelWidth + tableWidth;
        if (!string.IsNullOrEmpty(Title)) width = Math.Max(width, Margin * 2 + CaptionText.Measure(Title!, size * 1.15f));
        if (ShowColorBar) width = Math.Max(width, Margin * 2 + CaptionText.Measure(legend, small));
        float height = Margin + titleHeight + line + rowHeights.Sum() + gap * (_rows.Count - 1) + barBlock + Margin;

        var bitmap = new SKBitmap(new SKImageInfo((int)MathF.Ceiling(width), (int)MathF.Ceiling(height), SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        var ink = new SKColor(20, 20, 20);
        float tableLeft = Margin + labelWidth + (width - Margin * 2 - labelWidth - tableWidth) / 2;
        float y = Margin;
        if (!string.IsNullOrEmpty(Title))
        {
            CaptionText.Draw(canvas, Title!, width / 2, y, size * 1.15f, ink, SKTextAlign.Center);
            y += titleHeight;
        }
        for (int c = 0; c < _titles.Length; c++)
            CaptionText.Draw(canvas, _titles[c], tableLeft + c * (slotWidth + gap) + slotWidth / 2f, y, size, ink, SKTextAlign.Center);
        y += line;

        for (int r = 0; r < _rows.Count; r++)
        {
            var (label, row) = _rows[r];
            if (!string.IsNullOrEmpty(label))
                CaptionText.Draw(canvas, label!, tableLeft - gap, y + (slotHeight - line) / 2, size, ink, SKTextAlign.Right);
            for (int c = 0; c < row.Length; c++)
            {
                float left = tableLeft + c * (slotWidth + gap);
                DrawCell(canvas, row[c], left, y, slotWidth, slotHeight, options);
                if (!string.IsNullOrEmpty(row[c].Caption))
                    CaptionText.Draw(canvas, row[c].Caption!, left + slotWidth / 2f, y + slotHeight, small, ink, SKTextAlign.Center);
            }
            y += rowHeights[r] + gap;
        }

        if (ShowColorBar)
        {
            y += gap;
            float barLeft = tableLeft + (tableWidth - barWidth) / 2;
            DrawColorBar(canvas, barLeft, y, barWidth, barHeight);
            y += barHeight;
            CaptionText.Draw(canvas, "\u22121", barLeft, y, small, ink, SKTextAlign.Center);
            CaptionText.Draw(canvas, "0", barLeft + barWidth / 2, y, small, ink, SKTextAlign.Center);
            CaptionText.Draw(canvas, "+1", barLeft + barWidth, y, small, ink, SKTextAlign.Center);
            CaptionText.Draw(canvas, legend, barLeft + barWidth / 2, y + smallLine, small, ink, SKTextAlign.Center);
        }
        canvas.Flush();
        return bitmap;
    }

    /// <summary>Renders and writes a PNG file, creating its folder if needed.</summary>
    public void WritePng(string path)
    {
        HeatmapImage.CheckPath(path);
        using var bitmap = Render();
        HeatmapImage.WritePng(path, bitmap);
    }

    private static string DefaultLegend(HeatmapOptions o) =>
        o.Scale is double s ? $"relevance / {s:G4}"
        : o.Percentile is double p ? $"relevance / ({p:G4}th percentile of |R| of each map), clipped"
        : "relevance / (max |R| of each map)";

    private static void DrawCell(SKCanvas canvas, GridCell cell, float slotLeft, float slotTop, int slotWidth, int slotHeight, HeatmapOptions options)
    {
        if (cell.Width == 0) return;
        int f = Panels.Factor(cell.Width, cell.Height, options.MinPanelSize);
        float left = slotLeft + (slotWidth - cell.Width * f) / 2f, top = slotTop + (slotHeight - cell.Height * f) / 2f;
        using (var raster = cell.Map is null ? Panels.Image(cell.Image!)
                   : cell.Image is null ? Panels.Heatmap(cell.Map, RelevanceColorMap.ScaleOf(cell.Map, options))
                   : Panels.Overlay(cell.Map, cell.Image, RelevanceColorMap.ScaleOf(cell.Map, options), options.Opacity))
            Panels.DrawEnlarged(canvas, raster, left, top, f);

        using var frame = new SKPaint { Color = new SKColor(150, 150, 150), Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = false };
        canvas.DrawRect(left - 0.5f, top - 0.5f, cell.Width * f + 1, cell.Height * f + 1, frame);

        using var halo = new SKPaint { Color = SKColors.White, Style = SKPaintStyle.Stroke, StrokeWidth = 3.5f, IsAntialias = true };
        using var line = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1.5f, IsAntialias = true };
        if (cell.Box is SKRectI b)
        {
            var rect = new SKRect(left + b.Left * f, top + b.Top * f, left + b.Right * f, top + b.Bottom * f);
            canvas.DrawRect(rect, halo);
            canvas.DrawRect(rect, line);
        }
        if (cell.Marker is SKPointI m)
        {
            float radius = Math.Max(4f, f * 1.1f);
            float cx = left + (m.X + 0.5f) * f, cy = top + (m.Y + 0.5f) * f;
            canvas.DrawCircle(cx, cy, radius, halo);
            canvas.DrawCircle(cx, cy, radius, line);
        }
    }

    private static void DrawColorBar(SKCanvas canvas, float left, float top, float width, float height)
    {
        const int steps = 256;
        using var bitmap = new SKBitmap(new SKImageInfo(steps, 1, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int i = 0; i < steps; i++) bitmap.SetPixel(i, 0, RelevanceColorMap.Map(-1.0 + 2.0 * (i + 0.5) / steps));
        using var image = SKImage.FromBitmap(bitmap);
        canvas.DrawImage(image, SKRect.Create(left, top, width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        using var frame = new SKPaint { Color = new SKColor(120, 120, 120), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(left, top, width, height, frame);
    }
}
