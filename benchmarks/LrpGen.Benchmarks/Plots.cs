using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace LrpGen.Benchmarks;

/// <summary>--plots: PNGs of time and peak extra memory against tokens and layers, from results/scaling.json.</summary>
public static class Plots
{
    private static readonly (Method Method, string Label, string Color)[] Series =
    {
        (Method.Forward, "(1) forward", "#7f7f7f"),
        (Method.AttnLrp, "(2) generated AttnLRP", "#d62728"),
        (Method.AutogradGradX, "(3) autograd input x gradient", "#1f77b4"),
        (Method.AutogradRules, "(4) autograd + rules (LXT-style)", "#2ca02c"),
        (Method.AttnLrpCheckpointed, "(2) checkpointed (LrpOptions.Checkpointing)", "#ff7f0e"),
    };

    public static int Run(string inDir, string imagesDir)
    {
        var path = Path.Combine(inDir, "scaling.json");
        var results = JsonSerializer.Deserialize<ScalingResults>(File.ReadAllText(path))
                      ?? throw new InvalidDataException($"{path} is empty");
        Directory.CreateDirectory(imagesDir);
        foreach (var sweep in new[] { "tokens", "layers" })
        {
            var rows = results.Rows.Where(r => r.Sweep == sweep).ToList();
            if (rows.Count == 0) continue;
            string fixedPart = sweep == "tokens" ? $"{rows[0].Layers} layers" : $"{rows[0].Tokens} tokens";
            foreach (var (quantity, unit) in new[] { ("time", "median CPU time (ms), one thread"), ("memory", "peak extra memory (MiB)") })
            {
                var plt = new ScottPlot.Plot();
                foreach (var (method, label, color) in Series)
                {
                    var mine = rows.Where(r => r.Method == method.ToString())
                        .OrderBy(r => sweep == "tokens" ? r.Tokens : r.Layers).ToList();
                    if (mine.Count == 0) continue;
                    var xs = mine.Select(r => sweep == "tokens" ? Math.Log2(r.Tokens) : r.Layers).ToArray();
                    var ys = mine.Select(r => quantity == "time" ? r.MedianCpuMs : r.PeakExtraMiB).ToArray();
                    var s = plt.Add.Scatter(xs, ys);
                    s.LegendText = label;
                    s.Color = ScottPlot.Color.FromHex(color);
                    s.LineWidth = 2;
                    s.MarkerSize = 7;
                    if (method == Method.AttnLrpCheckpointed) s.LinePattern = ScottPlot.LinePattern.Dashed;
                }
                var ticks = rows.Select(r => sweep == "tokens" ? r.Tokens : r.Layers).Distinct().OrderBy(x => x).ToArray();
                var positions = ticks.Select(t => sweep == "tokens" ? Math.Log2(t) : t).ToArray();
                plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                    positions, ticks.Select(t => t.ToString(CultureInfo.InvariantCulture)).ToArray());
                plt.XLabel(sweep == "tokens" ? "sequence length (tokens, log scale)" : "decoder layers");
                plt.YLabel(unit);
                plt.Title($"{(quantity == "time" ? "Time" : "Peak extra memory")} vs {(sweep == "tokens" ? "sequence length" : "layers")} ({fixedPart}, float32, CPU)");
                plt.ShowLegend(ScottPlot.Alignment.UpperLeft);
                double top = rows.Max(r => quantity == "time" ? r.MedianCpuMs : r.PeakExtraMiB);
                plt.Axes.SetLimitsY(0, top * 1.08);
                var file = Path.Combine(imagesDir, $"{quantity}-vs-{sweep}.png");
                plt.SavePng(file, 900, 560);
                Console.WriteLine($"wrote {file}");
            }
        }
        var longResults = Path.Combine(inDir, Long.ResultsFile);
        if (File.Exists(longResults)) LongPlot.Write(longResults, imagesDir, Console.Out);
        return 0;
    }
}
