using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;

namespace LrpGen.Benchmarks;

/// <summary>The memory-against-length PNG of the --long results (docs/performance.md, "Long inputs"), drawn as
/// <see cref="Plots"/> draws the scaling sweeps: log-2 length axis, one line per method.</summary>
public static class LongPlot
{
    public const string ImageFile = "memory-vs-length.png";

    private static readonly (string Key, string Label, string Color)[] Series =
    {
        ("forward", "(1) forward", "#7f7f7f"),
        ("attnlrp", "(2) generated AttnLRP", "#d62728"),
        ("attnlrp_checkpointed", "(2) checkpointed (LrpOptions.Checkpointing)", "#ff7f0e"),
        ("autograd_gradx", "(3) autograd input x gradient", "#1f77b4"),
        ("autograd_rules", "(4) autograd + rules (LXT-style)", "#2ca02c"),
    };

    public static void Write(string resultsFile, string imagesDir, TextWriter log)
    {
        var rows = File.ReadAllLines(resultsFile)
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(o => o.ContainsKey("tokens"))
            .OrderBy(o => (int)o["tokens"]!)
            .ToList();
        if (rows.Count == 0) throw new InvalidDataException($"{resultsFile} has no per-length lines; run --long first.");
        var plt = new ScottPlot.Plot();
        double top = 0;
        foreach (var (key, label, color) in Series)
        {
            var points = rows.Where(r => r["peak_mib"]?[key] is not null)
                .Select(r => (Tokens: (int)r["tokens"]!, MiB: r["peak_mib"]![key]!.GetValue<double>())).ToArray();
            if (points.Length == 0) continue;
            var s = plt.Add.Scatter(points.Select(p => Math.Log2(p.Tokens)).ToArray(), points.Select(p => p.MiB).ToArray());
            s.LegendText = label;
            s.Color = ScottPlot.Color.FromHex(color);
            s.LineWidth = 2;
            s.MarkerSize = 7;
            if (key == "attnlrp_checkpointed") s.LinePattern = ScottPlot.LinePattern.Dashed;
            top = Math.Max(top, points.Max(p => p.MiB));
        }
        var ticks = rows.Select(r => (int)r["tokens"]!).ToArray();
        plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks.Select(t => Math.Log2(t)).ToArray(), ticks.Select(t => t.ToString(CultureInfo.InvariantCulture)).ToArray());
        plt.XLabel("sequence length (tokens, log scale)");
        plt.YLabel("peak extra memory (MiB)");
        plt.Title("Peak extra memory vs sequence length (4 layers, float32, CPU)");
        plt.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plt.Axes.SetLimitsY(0, top * 1.08);
        Directory.CreateDirectory(imagesDir);
        var file = Path.Combine(imagesDir, ImageFile);
        plt.SavePng(file, 900, 560);
        log.WriteLine($"wrote {file}");
    }
}
