using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace LrpGen.Cli;

/// <summary>Renders a generation for a terminal: the prompt and the generated text, then one line per generated token
/// with its logit, probability and row sum and its most relevant input tokens, each on its heatmap colour (the row's
/// own max |R|) with its value. Without colour (<see cref="TerminalColour"/>) the same text, no escape sequences.</summary>
public static class GenerationHeatmap
{
    /// <summary>How many input tokens each generated token lists.</summary>
    public const int TopInputs = 5;

    public static void Write(TextWriter output, GenerationResult result, bool colour)
    {
        int prompt = result.PromptTokens.Count;
        output.WriteLine($"{result.ModelType} · {result.Method} · {prompt} prompt tokens + {result.Generated.Count} generated (stopped: {result.Stop})");
        output.WriteLine();
        var text = new StringBuilder();
        for (int t = 0; t < result.Positions; t++)
        {
            var label = Visible(result.Label(t));
            text.Append(t >= prompt && colour ? $"\u001b[1m{label}\u001b[0m" : label);
            if (result.Pieces is null) text.Append(' ');
            if (t == prompt - 1 && !colour) text.Append(result.Pieces is null ? "| " : "|");
        }
        output.WriteLine(text.ToString().TrimEnd());
        output.WriteLine();

        int width = Math.Max(5, Math.Min(16, result.Generated.Max(g => Label(result, g.Id, g.Piece).Length)));
        output.WriteLine($"{"#",3}  {"token".PadRight(width)}  {"logit",10}  {"prob",6}  {"sum R",13}  most relevant inputs (position: relevance)");
        for (int s = 0; s < result.Generated.Count; s++)
        {
            var g = result.Generated[s];
            var row = result.Relevance[s];
            float max = HeatmapPalette.MaxAbs(row);
            var label = Label(result, g.Id, g.Piece);
            if (label.Length > width) label = label[..(width - 1)] + "…";
            var line = new StringBuilder($"{s,3}  {label.PadRight(width)}  {g.Logit.ToString("0.0000", CultureInfo.InvariantCulture),10}  "
                + $"{g.Probability.ToString("0.000", CultureInfo.InvariantCulture),6}  {HeatmapPalette.Format(g.RelevanceSum),13}  ");
            var top = Enumerable.Range(0, prompt + s).OrderByDescending(t => Math.Abs(row[t])).ThenBy(t => t).Take(TopInputs);
            line.AppendJoin("  ", top.Select(t =>
                $"{TerminalHeatmap.Cell(Visible(result.Label(t)), row[t], max, colour)}@{t.ToString(CultureInfo.InvariantCulture)} {HeatmapPalette.Format(row[t])}"));
            output.WriteLine(line.ToString());
        }
    }

    private static string Label(GenerationResult result, long id, string? piece) =>
        piece is not null ? "\"" + Visible(GenerationResult.Shown(piece, id)) + "\"" : id.ToString(CultureInfo.InvariantCulture);

    private static string Visible(string text) => DisplayText.Visible(text);
}
