using System;
using System.Globalization;
using System.IO;
using System.Text;

namespace LrpGen.Cli;

/// <summary>Renders an explanation for a terminal with 24-bit ANSI colours: the prompt as one heatmap (red positive,
/// blue negative, intensity |R| / max|R|), a table with each token's value, then the target and its logit. Without
/// colour (<see cref="TerminalColour"/>) the same text, no escape sequences: the values and bars carry the map.</summary>
public static class TerminalHeatmap
{
    private const string Reset = "\u001b[0m";
    private const int LineWidth = 100;
    private const int BarWidth = 20;

    public static void Write(TextWriter output, ExplainResult result, bool colour)
    {
        float max = HeatmapPalette.MaxAbs(result.Relevance);
        output.WriteLine($"{result.ModelType} · {result.Method} · {result.Tokens.Count} tokens · max |R| = {HeatmapPalette.Format(max)}");
        output.WriteLine();

        // The prompt, wrapped at about LineWidth visible characters.
        var line = new StringBuilder();
        int width = 0;
        for (int i = 0; i < result.Tokens.Count; i++)
        {
            var label = Visible(result.Label(i));
            if (width > 0 && width + label.Length > LineWidth)
            {
                output.WriteLine(line.ToString());
                line.Clear();
                width = 0;
            }
            line.Append(Cell(label, result.Relevance[i], max, colour));
            width += label.Length;
            if (result.Pieces is null) { line.Append(' '); width++; }
        }
        output.WriteLine(line.ToString());
        output.WriteLine();

        // One row per token: position, id, text, value, a bar of |R| / max|R|.
        int labelWidth = 5;
        for (int i = 0; i < result.Tokens.Count; i++) labelWidth = Math.Max(labelWidth, Math.Min(24, Visible(result.Label(i)).Length));
        output.WriteLine($"{"pos",5}  {"id",8}  {"token".PadRight(labelWidth)}  {"relevance",13}");
        for (int i = 0; i < result.Tokens.Count; i++)
        {
            float r = result.Relevance[i];
            var label = Visible(result.Label(i));
            if (label.Length > 24) label = label[..23] + "…";
            int bar = (int)Math.Round(BarWidth * HeatmapPalette.Intensity(r, max));
            output.WriteLine($"{i,5}  {result.Tokens[i].ToString(CultureInfo.InvariantCulture),8}  "
                + $"{Cell(label, r, max, colour)}{new string(' ', labelWidth - label.Length)}  {HeatmapPalette.Format(r),13}  "
                + (colour ? $"{Foreground(HeatmapPalette.Background(r >= 0 ? max : -max, max))}{new string('█', bar)}{Reset}" : new string(r >= 0 ? '█' : '░', bar)));
        }
        output.WriteLine();

        var target = result.TargetPiece is { } piece ? $"{result.Target} \"{Visible(piece)}\"" : result.Target.ToString(CultureInfo.InvariantCulture);
        output.WriteLine($"target: {target}   logit: {result.Logit.ToString("R", CultureInfo.InvariantCulture)}");
    }

    /// <summary>A token's text on its heatmap colour (the text alone without colour).</summary>
    public static string Cell(string text, float value, float maxAbs, bool colour)
    {
        if (!colour) return text;
        var bg = HeatmapPalette.Background(value, maxAbs);
        var fg = HeatmapPalette.Foreground(value, maxAbs);
        return $"\u001b[48;2;{bg.R};{bg.G};{bg.B}m{Foreground(fg)}{text}{Reset}";
    }

    private static string Foreground(Rgb c) => $"\u001b[38;2;{c.R};{c.G};{c.B}m";

    /// <summary>Token text made safe and visible on one terminal line (see <see cref="DisplayText.Visible"/>).</summary>
    public static string Visible(string text) => DisplayText.Visible(text);
}
