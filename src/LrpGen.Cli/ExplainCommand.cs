using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary><c>lrpgen explain</c>: check the folder and the prompt, load the model, explain one next-token logit with
/// latents at every block output, then print the heatmap and write the requested files.</summary>
public sealed class ExplainCommand
{
    /// <summary>The latent points requested: every block's output ("layers.0", "layers.1", ...).</summary>
    public const string BlockOutputs = "layers.*";

    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;
    private readonly bool _colour;

    public ExplainCommand(TextWriter stdout, TextWriter stderr, bool colour = true)
    {
        _stdout = stdout;
        _stderr = stderr;
        _colour = colour;
    }

    /// <summary>Explains, prints and writes the files; a wrong argument throws <see cref="UsageException"/>, any
    /// other failure its own exception (<see cref="CommandFailures"/> turns either into the exit code).</summary>
    public int Run(ExplainOptions options)
    {
        var result = Explain(options);
        TerminalHeatmap.Write(_stdout, result, _colour);
        _stdout.Flush();
        using var outputs = new StagedOutputs(_stderr);
        if (options.JsonPath is { } json) outputs.Add(json, stream => JsonReport.Write(stream, result));
        if (options.HtmlPath is { } html) outputs.Add(html, stream => HtmlReport.Write(stream, result));
        outputs.Commit();
        return ExitCodes.Success;
    }

    /// <summary>Runs the explanation and returns it as plain arrays. Every check that needs no weights (the folder,
    /// the outputs, the prompt's ids and length, the memory) comes before the weights are loaded.</summary>
    public ExplainResult Explain(ExplainOptions options)
    {
        var folder = options.ModelDir;
        ModelInput.CheckFolder(folder);

        if (options.Text is not null && string.IsNullOrWhiteSpace(options.Text))
            throw new UsageException("--text is empty; give the prompt's text (a tokenizer's BOS token alone explains nothing).");
        OutputTargets.Check(("--json", options.JsonPath), ("--html", options.HtmlPath));

        using var tokenizer = LoadTokenizer(folder, options);
        var ids = options.Ids?.ToArray() ?? tokenizer!.Encode(options.Text!);
        if (ids.Length == 0)
            throw new UsageException(options.Text is not null ? $"--text \"{DisplayText.Visible(options.Text)}\" has no tokens." : "--ids has no token ids.");

        var device = TorchBackend.Resolve(options.Device);
        var dtype = TorchBackend.ScalarTypeOf(options.DType);
        var info = TextModel.Describe(folder, dtype);
        long vocab = info.VocabSize;
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] >= vocab)
                throw new UsageException($"token id {ids[i]} at position {i} is outside the model's vocabulary [0, {vocab}).");
        if (options.Target is long t && t >= info.OutputSize)
            throw new UsageException(info.ModelType == "bert"
                ? $"--target {t} is not one of the model's classes [0, {info.OutputSize})."
                : $"--target {t} is outside the model's vocabulary [0, {vocab}).");
        ids = PromptLength.Fit(ids, info, options.Truncate, _stderr);
        bool tight = MemoryBudget.Check(info.Pass, ids.Length, options.MaxMemory, "explaining a prompt");

        var progress = new StderrProgress(_stderr);
        if (tight && MallocTuning.ReturnLargeBlocks())
            progress.Report("memory is tight: freed tensors go back to the system at once (slower, by page faults)");
        progress.Report($"loading {folder} ({ChoiceNames.Name(options.DType)} on {ChoiceNames.Name(options.Device)}, {TorchBackend.Package})");
        using var lm = TextModel.Load(folder, dtype, device, progress);
        FiniteChecks.Weights(folder, lm.Module);

        var method = ChoiceNames.Name(options.Method);
        progress.Report($"explaining {ids.Length} tokens with {method}");
        var request = new ExplainRequest
        {
            Method = options.Method,
            Targets = options.Target is long target ? new[] { target } : null,
            Latents = new[] { BlockOutputs },
        };
        using var explanation = lm.Explain(ids, request);
        progress.Report($"explained; {PeakMemory.Describe()}");

        var latent = new List<KeyValuePair<string, float[]>>();
        for (int layer = 0; layer < lm.Layers; layer++)
        {
            var name = $"layers.{layer}";
            if (!explanation.Latents.TryGetValue(name, out var value))
                throw new CliRuntimeException($"the explanation has no relevance at '{name}' (block {layer}'s output).");
            var perPosition = PerPosition(value);
            FiniteChecks.Values($"the relevance at {name} (block {layer}'s output)", perPosition);
            latent.Add(new(name, perPosition));
        }
        long explained = explanation.Targets[0];
        FiniteChecks.Value($"the explained logit (target {explained})", explanation.TargetLogits[0]);
        var relevance = ToFloats(explanation.TokenRelevance[0]);
        FiniteChecks.Values("the token relevance", relevance);
        return new ExplainResult
        {
            ModelType = lm.ModelType,
            Method = method,
            Target = explained,
            TargetPiece = lm.ModelType != "bert" && tokenizer?.Piece(explained) is { Length: > 0 } piece ? piece : null,
            Logit = explanation.TargetLogits[0],
            Tokens = ids,
            Pieces = tokenizer?.Pieces(ids),
            Relevance = relevance,
            Latent = latent,
        };
    }

    private IPromptTokenizer? LoadTokenizer(string folder, ExplainOptions options) => ModelInput.LoadTokenizer(folder, options.Text is not null, _stderr);

    /// <summary>Relevance at a block output [1, T, H] summed over the hidden dimension: one value per position.</summary>
    private static float[] PerPosition(Tensor relevance)
    {
        using var row = relevance[0];
        using var summed = row.sum(-1);
        return ToFloats(summed);
    }

    private static float[] ToFloats(Tensor tensor)
    {
        using var cpu = tensor.to(ScalarType.Float32, torch.CPU);
        return cpu.data<float>().ToArray();
    }
}
