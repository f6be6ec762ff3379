using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace LrpGen.Evaluation;

/// <summary>Tables of evaluation results as text, Markdown and CSV, and the section of docs/evaluation.md that
/// holds one run's results (between <c>&lt;!-- lrpgen-evaluate:NAME --&gt;</c> and <c>&lt;!-- /lrpgen-evaluate:NAME --&gt;</c>).</summary>
public static class EvaluationReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static readonly string[] FaithfulnessHeader = { "method", "ABPC", "s.e.", "area MoRF", "area LeRF", "ms / explanation" };
    /// <summary>Token identification on key-value recall under both targets: the logit of the correct value and its
    /// contrast with the queried key's other values.</summary>
    public static readonly string[] RecallHeader =
    {
        "method", "top-1 (logit)", "both in top 2 (logit)", "mean rank (logit)",
        "top-1 (contrast)", "both in top 2 (contrast)", "mean rank (contrast)", "ms / explanation",
    };

    public static IReadOnlyList<string[]> Rows(FaithfulnessResult result) => result.Methods.Select(m => new[]
    {
        AttributionMethods.Label(m.Method), F(m.Abpc, "0.000"), F(m.AbpcStandardError, "0.000"), F(m.AreaMorf, "0.000"),
        F(m.AreaLerf, "0.000"), F(m.MillisecondsPerExplanation, "0.0"),
    }).ToList();

    /// <summary>One row per method of <see cref="RecallHeader"/>; the time is the mean over both targets.</summary>
    public static IReadOnlyList<string[]> Rows(PlausibilityResult logit, PlausibilityResult contrast)
    {
        if (!logit.Methods.Select(m => m.Method).SequenceEqual(contrast.Methods.Select(m => m.Method)))
            throw new ArgumentException("the two results compare different methods.", nameof(contrast));
        return logit.Methods.Zip(contrast.Methods, (l, c) => new[]
        {
            AttributionMethods.Label(l.Method), F(l.Top1, "0.000"), F(l.EvidenceOnTop, "0.000"), F(l.MeanRank, "0.00"),
            F(c.Top1, "0.000"), F(c.EvidenceOnTop, "0.000"), F(c.MeanRank, "0.00"),
            F((l.MillisecondsPerExplanation + c.MillisecondsPerExplanation) / 2, "0.0"),
        }).ToList();
    }

    /// <summary>An aligned plain-text table for the terminal.</summary>
    public static string Text(string[] header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        void Line(string[] cells) => sb.AppendLine(string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var row in rows) Line(row);
        return sb.ToString();
    }

    public static string Markdown(string[] header, IReadOnlyList<string[]> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("| " + string.Join(" | ", header.Select((_, i) => i == 0 ? "---" : "---:")) + " |");
        foreach (var row in rows) sb.AppendLine("| " + string.Join(" | ", row) + " |");
        return sb.ToString();
    }

    public static string Csv(string[] header, IReadOnlyList<string[]> rows)
    {
        static string Cell(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
        var sb = new StringBuilder();
        sb.Append(string.Join(",", header.Select(Cell))).Append('\n');
        foreach (var row in rows) sb.Append(string.Join(",", row.Select(Cell))).Append('\n');
        return sb.ToString();
    }

    /// <summary>The mean curves as CSV: fraction removed, then MoRF and LeRF per method.</summary>
    public static string CurvesCsv(FaithfulnessResult result)
    {
        var header = new List<string> { "fraction removed" };
        foreach (var m in result.Methods)
        {
            header.Add($"{AttributionMethods.Name(m.Method)} MoRF");
            header.Add($"{AttributionMethods.Name(m.Method)} LeRF");
        }
        var rows = new List<string[]>();
        int points = result.Methods[0].MorfCurve.Length;
        for (int p = 0; p < points; p++)
        {
            var row = new List<string> { F((double)p / (points - 1), "0.00") };
            foreach (var m in result.Methods)
            {
                row.Add(F(m.MorfCurve[p], "0.0000"));
                row.Add(F(m.LerfCurve[p], "0.0000"));
            }
            rows.Add(row.ToArray());
        }
        return Csv(header.ToArray(), rows);
    }

    /// <summary>Replaces the section <paramref name="name"/> of a Markdown file with <paramref name="content"/>
    /// (creating the file, or appending the section at its end, if absent). Returns the new text.</summary>
    public static string ReplaceSection(string document, string name, string content)
    {
        string begin = $"<!-- lrpgen-evaluate:{name} -->", end = $"<!-- /lrpgen-evaluate:{name} -->";
        string block = begin + "\n" + content.TrimEnd('\n') + "\n" + end;
        int b = document.IndexOf(begin, StringComparison.Ordinal);
        int e = b < 0 ? -1 : document.IndexOf(end, b, StringComparison.Ordinal);
        if (b >= 0 && e >= 0) return document.Substring(0, b) + block + document.Substring(e + end.Length);
        if (document.Length > 0 && !document.EndsWith("\n", StringComparison.Ordinal)) document += "\n";
        return document + (document.Length > 0 ? "\n" : "") + block + "\n";
    }

    public static void UpdateDocument(string path, string name, string content)
    {
        string text = File.Exists(path) ? File.ReadAllText(path) : "";
        // Replaced only when complete: a failure leaves the document as it was.
        LrpGen.IO.OutputFiles.WriteText(path, ReplaceSection(text, name, content));
    }

    public static string F(double value, string format) => double.IsNaN(value) ? "n/a" : value.ToString(format, Invariant);
}
