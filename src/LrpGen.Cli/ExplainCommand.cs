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

    public ExplainCommand(TextWriter stdout, TextWriter stderr)
    {
        _stdout = stdout;
        _stderr = stderr;
    }

    public int Run(ExplainOptions options)
    {
        try
        {
            var result = Explain(options);
            TerminalHeatmap.Write(_stdout, result);
            _stdout.Flush();
            if (options.JsonPath is { } json)
            {
                WriteFile(json, path => JsonReport.Write(path, result));
                _stderr.WriteLine($"wrote {json}");
            }
            if (options.HtmlPath is { } html)
            {
                WriteFile(html, path => HtmlReport.Write(path, result));
                _stderr.WriteLine($"wrote {html}");
            }
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is UsageException or ArgumentException)
        {
            _stderr.WriteLine($"lrpgen explain: error: {ErrorMessages.Describe(e)}");
            _stderr.WriteLine(LrpGenCommandLine.Usage);
            return ExitCodes.UsageError;
        }
        catch (Exception e)
        {
            _stderr.WriteLine($"lrpgen explain: error: {ErrorMessages.Describe(e)}");
            return ExitCodes.RuntimeError;
        }
    }

    /// <summary>Runs the explanation and returns it as plain arrays.</summary>
    public ExplainResult Explain(ExplainOptions options)
    {
        var folder = options.ModelDir;
        if (!Directory.Exists(folder))
            throw new UsageException(File.Exists(folder)
                ? $"model folder '{folder}' is a file; give the folder that holds config.json and the weights."
                : $"model folder '{folder}' does not exist.");
        if (!File.Exists(Path.Combine(folder, CheckpointFolder.ConfigFileName)))
            throw new UsageException($"'{folder}' is not a Hugging Face model folder: it has no {CheckpointFolder.ConfigFileName}.");

        CheckOutputFolder("--json", options.JsonPath);
        CheckOutputFolder("--html", options.HtmlPath);

        using var tokenizer = LoadTokenizer(folder, options);
        var ids = options.Ids?.ToArray() ?? tokenizer!.Encode(options.Text!);
        if (ids.Length == 0)
            throw new UsageException(options.Text is not null ? $"--text \"{options.Text}\" has no tokens." : "--ids has no token ids.");

        var device = TorchBackend.Resolve(options.Device);
        var progress = new StderrProgress(_stderr);
        progress.Report($"loading {folder} ({ChoiceNames.Name(options.DType)} on {ChoiceNames.Name(options.Device)}, {TorchBackend.Package})");
        using var lm = TextModel.Load(folder, TorchBackend.ScalarTypeOf(options.DType), device, progress);

        long vocab = lm.VocabSize;
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] >= vocab)
                throw new UsageException($"token id {ids[i]} at position {i} is outside the model's vocabulary [0, {vocab}).");
        if (options.Target is long t && t >= lm.OutputSize)
            throw new UsageException(lm.ModelType == "bert"
                ? $"--target {t} is not one of the model's classes [0, {lm.OutputSize})."
                : $"--target {t} is outside the model's vocabulary [0, {vocab}).");

        var method = ChoiceNames.Name(options.Method);
        progress.Report($"explaining {ids.Length} tokens with {method}");
        var request = new ExplainRequest
        {
            Method = options.Method,
            Targets = options.Target is long target ? new[] { target } : null,
            Latents = new[] { BlockOutputs },
        };
        using var explanation = lm.Explain(ids, request);

        var latent = new List<KeyValuePair<string, float[]>>();
        for (int layer = 0; layer < lm.Layers; layer++)
        {
            var name = $"layers.{layer}";
            if (!explanation.Latents.TryGetValue(name, out var value))
                throw new CliRuntimeException($"the explanation has no relevance at '{name}' (block {layer}'s output).");
            latent.Add(new(name, PerPosition(value)));
        }
        long explained = explanation.Targets[0];
        return new ExplainResult
        {
            ModelType = lm.ModelType,
            Method = method,
            Target = explained,
            TargetPiece = lm.ModelType != "bert" && tokenizer?.Piece(explained) is { Length: > 0 } piece ? piece : null,
            Logit = explanation.TargetLogits[0],
            Tokens = ids,
            Pieces = tokenizer?.Pieces(ids),
            Relevance = ToFloats(explanation.TokenRelevance[0]),
            Latent = latent,
        };
    }

    private HfTokenizer? LoadTokenizer(string folder, ExplainOptions options)
    {
        if (options.Text is not null)
            return HfTokenizer.TryLoad(folder) ?? throw new UsageException(
                $"--text needs a tokenizer, but '{folder}' has no {HfTokenizer.FileName}; give the prompt as token ids with --ids 5,17,3.");
        try
        {
            return HfTokenizer.TryLoad(folder);
        }
        catch (CliRuntimeException e)
        {
            // The ids are given: the pieces are a nicety, so a broken tokenizer costs only the token text.
            _stderr.WriteLine($"warning: {e.Message} Tokens are shown as ids.");
            return null;
        }
    }

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

    /// <summary>A file to write whose folder does not exist is a wrong argument, found before the model is loaded.</summary>
    internal static void CheckOutputFolder(string option, string? path)
    {
        if (path is null) return;
        if (path.Length == 0 || Directory.Exists(path))
            throw new UsageException($"{option} '{path}' is not a file name.");
        var parent = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(parent) && !Directory.Exists(parent))
            throw new UsageException($"{option} '{path}': the folder {parent} does not exist.");
    }

    internal static void WriteFile(string path, Action<string> write)
    {
        try
        {
            write(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliRuntimeException($"cannot write {path}: {e.Message}", e);
        }
    }
}
