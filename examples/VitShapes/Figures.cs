using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Visualization;

namespace VitShapes;

/// <summary>The figures of docs/vit-shapes.md, drawn with LrpGen.Visualization.</summary>
public static class Figures
{
    /// <summary>One row per example: the image with the object's box, then each method's heatmap with the box and a
    /// ring at its most relevant pixel; captions say hit or miss and the share of positive relevance in the box.</summary>
    public static void WriteGrid(string path, IReadOnlyList<PointingGame.Example> examples)
    {
        int size = ShapesData.Size;
        var grid = new HeatmapGrid(new[] { "image" }.Concat(PointingGame.Methods.Select(m => m.Name)))
        {
            Title = "ViT on synthetic shapes: relevance of the true class (box: object; ring: most relevant pixel)",
            Options = new HeatmapOptions { MinPanelSize = 128, Percentile = 99.5 },
        };
        foreach (var example in examples)
        {
            var sample = example.Sample;
            var box = sample.Box;
            var cells = new List<GridCell>
            {
                GridCell.ForImage(RgbImage.FromChw(sample.Pixels, size, size), Caption(example)).WithBox(box.X0, box.Y0, box.X1, box.Y1),
            };
            foreach (var map in example.Maps)
            {
                var (hit, _, share) = PointingGame.Measure(map, size, box);
                int best = Array.IndexOf(map, map.Max());
                cells.Add(GridCell.ForHeatmap(RelevanceMap.FromValues(map, size, size), caption: $"{(hit ? "hit" : "miss")}, {100 * share:F0} % in box")
                    .WithBox(box.X0, box.Y0, box.X1, box.Y1).WithMarker(best % size, best / size));
            }
            grid.AddRow(null, cells.ToArray());
        }
        grid.WritePng(path);
    }

    /// <summary>One example as <see cref="HeatmapImage"/> draws it: the image, the heatmap, and the heatmap over the image.</summary>
    public static void WriteSideBySide(string path, PointingGame.Example example, int method)
    {
        int size = ShapesData.Size;
        HeatmapImage.WritePng(path, RelevanceMap.FromValues(example.Maps[method], size, size),
            RgbImage.FromChw(example.Sample.Pixels, size, size), new HeatmapOptions { Layout = HeatmapLayout.ImageHeatmapOverlay, Percentile = 99.5 });
    }

    private static string Caption(PointingGame.Example e)
    {
        string truth = ShapesData.ClassNames[e.Sample.Label];
        return e.Predicted == e.Sample.Label ? truth : $"{truth} (predicted {ShapesData.ClassNames[e.Predicted]})";
    }
}
