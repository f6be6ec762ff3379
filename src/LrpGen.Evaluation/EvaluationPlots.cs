using System;
using System.Collections.Generic;
using System.Linq;
using ScottPlot;

namespace LrpGen.Evaluation;

/// <summary>PNG plots of evaluation results (ScottPlot).</summary>
public static class EvaluationPlots
{
    private static readonly Dictionary<AttributionMethod, string> Colors = new()
    {
        [AttributionMethod.AttnLrp] = "#d62728",
        [AttributionMethod.CpLrp] = "#ff7f0e",
        [AttributionMethod.InputXGradient] = "#1f77b4",
        [AttributionMethod.IntegratedGradients] = "#2ca02c",
        [AttributionMethod.SmoothGrad] = "#9467bd",
        [AttributionMethod.AttentionRollout] = "#8c564b",
        [AttributionMethod.Random] = "#7f7f7f",
    };

    /// <summary>The mean MoRF (left) and LeRF (right) curves: the explained quantity relative to its unperturbed
    /// value against the fraction of tokens removed.</summary>
    public static void Faithfulness(FaithfulnessResult result, string title, string path, int width = 1200, int height = 520)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var panels = new[] { ("MoRF: most relevant removed first (lower is better)", true), ("LeRF: least relevant removed first (higher is better)", false) };
        double min = result.Methods.SelectMany(m => m.MorfCurve.Concat(m.LerfCurve)).Min();
        double max = result.Methods.SelectMany(m => m.MorfCurve.Concat(m.LerfCurve)).Max();
        for (int p = 0; p < 2; p++)
        {
            var plot = multiplot.GetPlot(p);
            var (label, morf) = panels[p];
            var xs = Enumerable.Range(0, result.Methods[0].MorfCurve.Length).Select(i => (double)i / (result.Methods[0].MorfCurve.Length - 1)).ToArray();
            foreach (var m in result.Methods)
            {
                var line = plot.Add.Scatter(xs, morf ? m.MorfCurve : m.LerfCurve);
                line.LegendText = $"{AttributionMethods.Label(m.Method)} (ABPC {EvaluationReport.F(m.Abpc, "0.00")})";
                line.Color = Color.FromHex(Colors[m.Method]);
                line.LineWidth = m.Method == AttributionMethod.AttnLrp ? 3 : 2;
                line.MarkerSize = 0;
                if (m.Method == AttributionMethod.Random) line.LinePattern = LinePattern.Dashed;
            }
            plot.Title(p == 0 ? $"{title}\n{label}" : $"\n{label}", size: 14);
            plot.XLabel("fraction of tokens removed (input embedding zeroed)");
            plot.YLabel("explained quantity / unperturbed value");
            plot.Axes.SetLimits(0, 1, Math.Min(0, min) - 0.05, Math.Max(1, max) + 0.05);
            plot.ShowLegend(p == 0 ? Alignment.UpperRight : Alignment.LowerLeft);
        }
        LrpGen.IO.OutputFiles.WriteVia(path, temp => multiplot.SavePng(temp, width, height));
    }

    /// <summary>Top-k accuracy of token identification: the fraction of prompts whose answer token is among the k
    /// most relevant tokens, against k; one panel per explained target (title, result).</summary>
    public static void Plausibility(IReadOnlyList<(string Title, PlausibilityResult Result)> panels, string path, int width = 1400, int height = 560)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        int maxK = Math.Min(10, panels.Max(p => p.Result.Methods.Max(m => m.TopK.Length)));
        var xs = Enumerable.Range(1, maxK).Select(k => (double)k).ToArray();
        for (int p = 0; p < panels.Count; p++)
        {
            var plot = multiplot.GetPlot(p);
            foreach (var m in panels[p].Result.Methods)
            {
                var line = plot.Add.Scatter(xs, m.TopK.Take(maxK).Concat(Enumerable.Repeat(1.0, Math.Max(0, maxK - m.TopK.Length))).ToArray());
                line.LegendText = $"{AttributionMethods.Label(m.Method)} (top-1 {EvaluationReport.F(m.Top1, "0.00")}, both in top 2 {EvaluationReport.F(m.EvidenceOnTop, "0.00")})";
                line.Color = Color.FromHex(Colors[m.Method]);
                line.LineWidth = m.Method == AttributionMethod.AttnLrp ? 3 : 2;
                line.MarkerSize = 6;
                if (m.Method == AttributionMethod.Random) line.LinePattern = LinePattern.Dashed;
            }
            plot.Title(panels[p].Title, size: 14);
            plot.XLabel("k (the answer token among the k most relevant tokens)");
            plot.YLabel("fraction of prompts");
            plot.Axes.SetLimits(0.5, maxK + 0.5, 0, 1.02);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
            plot.ShowLegend(Alignment.LowerRight);
        }
        LrpGen.IO.OutputFiles.WriteVia(path, temp => multiplot.SavePng(temp, width, height));
    }
}
