using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Decoders;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary><c>lrpgen generate</c>: check the model and the prompt, load the model, generate, explain every generated
/// token in one batched backward, then print the text and the heatmap and write the requested files.</summary>
public sealed class GenerateCommand
{
    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;
    private readonly bool _colour;

    public GenerateCommand(TextWriter stdout, TextWriter stderr, bool colour = true)
    {
        _stdout = stdout;
        _stderr = stderr;
        _colour = colour;
    }

    public int Run(GenerateOptions options)
    {
        var result = Generate(options);
        GenerationHeatmap.Write(_stdout, result, _colour);
        _stdout.Flush();
        using var outputs = new StagedOutputs(_stderr);
        if (options.JsonPath is { } json) outputs.Add(json, stream => GenerationJsonReport.Write(stream, result));
        if (options.HtmlPath is { } html) outputs.Add(html, stream => GenerationHtmlReport.Write(stream, result));
        outputs.Commit();
        return ExitCodes.Success;
    }

    /// <summary>Generates and explains, returning plain arrays. Every check that needs no weights comes first.</summary>
    public GenerationResult Generate(GenerateOptions options)
    {
        var folder = options.ModelDir;
        ModelInput.CheckFolder(folder);
        if (options.Text is not null && string.IsNullOrWhiteSpace(options.Text))
            throw new UsageException("--text is empty; give the prompt's text.");
        OutputTargets.Check(("--json", options.JsonPath), ("--html", options.HtmlPath));

        using var tokenizer = ModelInput.LoadTokenizer(folder, options.Text is not null, _stderr);
        if (options.Stop.Count > 0 && tokenizer is null)
            throw new UsageException($"--stop needs the model's tokenizer to read the generated text, but '{folder}' has none; leave --stop out.");
        var ids = options.Ids?.ToArray() ?? tokenizer!.Encode(options.Text!);
        if (ids.Length == 0)
            throw new UsageException(options.Text is not null ? $"--text \"{DisplayText.Visible(options.Text)}\" has no tokens." : "--ids has no token ids.");

        var dtype = TorchBackend.ScalarTypeOf(options.DType);
        var info = TextModel.Describe(folder, dtype);
        if (info.ModelType == "bert")
            throw new UsageException($"'{folder}' is a BERT classifier; generate needs a causal LM (model_type llama, gpt2, ... in docs/models.md).");
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] >= info.VocabSize)
                throw new UsageException($"token id {ids[i]} at position {i} is outside the model's vocabulary [0, {info.VocabSize}).");
        if (info.MaxPositions > 0 && ids.Length + options.MaxNewTokens - 1 > info.MaxPositions)
            throw new UsageException($"a prompt of {ids.Length} tokens plus {options.MaxNewTokens} new tokens needs {ids.Length + options.MaxNewTokens - 1} positions, "
                + $"more than the model's {info.MaxPositions} ({info.PositionsKey}); use a shorter prompt or --max-new-tokens {Math.Max(1, info.MaxPositions - ids.Length + 1)}.");

        var device = TorchBackend.Resolve(options.Device);
        var progress = new StderrProgress(_stderr);
        progress.Report($"loading {folder} ({ChoiceNames.Name(options.DType)} on {ChoiceNames.Name(options.Device)}, {TorchBackend.Package})");
        using var lm = CausalLm.Load(folder, dtype, device, progress);
        FiniteChecks.Weights(folder, lm.Module);

        progress.Report($"generating up to {options.MaxNewTokens} tokens after {ids.Length}");
        var generation = lm.Generate(ids, new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens,
            Temperature = options.Temperature,
            TopK = options.TopK,
            TopP = options.TopP,
            Seed = options.Seed,
            StopStrings = options.Stop,
            Decode = tokenizer is null ? null : generated => string.Concat(tokenizer.Pieces(ids.Concat(generated).ToArray()).Skip(ids.Length)),
        });

        var method = ChoiceNames.Name(options.Method);
        progress.Report($"explaining {generation.Tokens.Length} generated tokens with {method} (one backward)");
        var explanation = lm.ExplainGeneration(ids, generation.Tokens, new ExplainRequest { Method = options.Method });

        var pieces = tokenizer?.Pieces(explanation.Tokens);
        var rows = new float[explanation.Generated.Length][];
        for (int s = 0; s < rows.Length; s++)
        {
            rows[s] = explanation.Row(s).Select(v => (float)v).ToArray();
            FiniteChecks.Values($"the relevance of generated token {s}", rows[s]);
        }
        FiniteChecks.Values("the generated tokens' logits", explanation.Logits.Select(v => (float)v).ToArray());
        var generated = explanation.Generated.Select((id, s) => new GeneratedToken(id, pieces?[ids.Length + s],
            (float)explanation.Logits[s], (float)explanation.Probabilities[s], (float)explanation.RowSums[s])).ToArray();
        return new GenerationResult
        {
            ModelType = lm.Config.ModelType,
            Method = method,
            PromptTokens = ids,
            Generated = generated,
            Pieces = pieces,
            Stop = generation.Stop switch
            {
                GenerationStop.EndOfSequence => "eos",
                GenerationStop.StopString => "stop",
                _ => "max-new-tokens",
            },
            Relevance = rows,
        };
    }
}
