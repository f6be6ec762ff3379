using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>The command-line grammar of lrpgen (System.CommandLine): the <c>explain</c> command, its options, and
/// the checks that turn a malformed argument into a parse error naming it.</summary>
public sealed class LrpGenCommandLine
{
    public const string Usage =
        "Usage: lrpgen explain <model-dir> (--ids 5,17,3 | --text \"...\") [--target ID] [--method attnlrp|cplrp|gradx]\n" +
        "                      [--json FILE] [--html FILE] [--device cpu|cuda] [--dtype float32|bfloat16|float16]\n" +
        "                      [--truncate left|right] [--max-memory SIZE]";

    public const string SimilarityUsage =
        "Usage: lrpgen similarity [\"<sentence A>\" \"<sentence B>\"] [--method attnlrp|cplrp|gradx] [--json FILE] [--html FILE]";

    public const string ExplainImageUsage =
        "Usage: lrpgen explain-image <model-dir> (<image.png|jpg> | --pixels input.safetensors) [--target ID] [--method attnlrp|cplrp|gradx]\n" +
        "                            [--gamma-conv 0.25] [--gamma-linear 0.05] [--out heatmap.png|.jpg] [--json FILE] [--max-memory SIZE]";

    public const string EvaluateUsage =
        "Usage: lrpgen evaluate faithfulness [--task similarity|recall] [--examples N] [--methods attnlrp,cplrp,gradx,ig,smoothgrad,rollout,random]\n" +
        "                       [--ig-steps 32] [--smoothgrad-samples 32] [--smoothgrad-noise 0.1] [--seed 1] [--threads N] [--model DIR] [--wordnet DIR]\n" +
        "                       [--output DIR] [--doc FILE]\n" +
        "       lrpgen evaluate recall [--examples N] [--methods ...] [--ig-steps 32] [--smoothgrad-samples 32] [--smoothgrad-noise 0.1]\n" +
        "                       [--seed 1] [--threads N] [--model DIR] [--output DIR] [--doc FILE]";

    private readonly Command _root;
    private readonly VersionOption _version = new();
    private readonly Argument<string> _modelDir;
    private readonly Option<long[]?> _ids;
    private readonly Option<string?> _text;
    private readonly Option<long?> _target;
    private readonly Option<string> _method;
    private readonly Option<string?> _json;
    private readonly Option<string?> _html;
    private readonly Option<string> _device;
    private readonly Option<string> _dtype;
    private readonly Option<string> _truncate;
    private readonly Option<long?> _maxMemory;

    public LrpGenCommandLine(Func<ExplainOptions, int> explain, Func<SimilarityOptions, int> similarity, Func<ExplainImageOptions, int> explainImage,
        Func<EvaluateOptions, int>? evaluate = null)
    {
        _modelDir = new Argument<string>("model-dir")
        {
            Description = "A Hugging Face model folder: config.json plus model.safetensors (or a sharded index); "
                + "model_type llama, qwen3_moe, gpt2 or bert. A tokenizer.json there enables --text and shows tokens as text.",
        };
        _ids = new Option<long[]?>("--ids")
        {
            Description = "The prompt as comma-separated token ids, e.g. 5,17,3.",
            HelpName = "5,17,3",
            Arity = ArgumentArity.ExactlyOne,
            CustomParser = ParseIds,
        };
        _text = new Option<string?>("--text")
        {
            Description = "The prompt as text, tokenized with the folder's tokenizer.json.",
            HelpName = "text",
        };
        _target = new Option<long?>("--target")
        {
            Description = "The token id whose next-token logit is explained (default: the top logit).",
            HelpName = "ID",
            CustomParser = ParseTarget,
        };
        _method = Choice("--method", "The explanation: attnlrp (AttnLRP), cplrp (CP-LRP) or gradx (input x gradient).",
            ChoiceNames.Methods, "attnlrp");
        _json = new Option<string?>("--json")
        {
            Description = "Also write the relevance (per token and per block output) as JSON to this file.",
            HelpName = "FILE",
        };
        _html = new Option<string?>("--html")
        {
            Description = "Also write a self-contained HTML page with the coloured tokens to this file.",
            HelpName = "FILE",
        };
        _device = Choice("--device", "Where to run: cpu or cuda.", ChoiceNames.Devices, "cpu");
        _dtype = Choice("--dtype", "The dtype the model runs in: float32, bfloat16 or float16 (relevance is float32).",
            ChoiceNames.DTypes, "float32");
        _truncate = Choice("--truncate", "A prompt longer than the model's positions (max_position_embeddings, GPT-2's n_positions) is an error; "
            + "left drops its first tokens, right its last ones (with a notice).", ChoiceNames.TruncateSides, "none");
        _maxMemory = MaxMemoryOption("A prompt whose estimated peak exceeds it is refused before the model is loaded.");

        var explainCommand = new Command("explain", "Explain the next-token logit of a causal LM (or the class logit of a BERT classifier) for one prompt: token "
            + "relevance as a terminal heatmap, the target token and its logit.")
        {
            _modelDir, _ids, _text, _target, _method, _json, _html, _device, _dtype, _truncate, _maxMemory,
        };
        explainCommand.Validators.Add(ValidateInput);
        explainCommand.SetAction(parse => explain(Bind(parse)));

        var sentenceA = new Argument<string?>("sentence-a") { Description = "The first sentence (default: a built-in pair).", Arity = ArgumentArity.ZeroOrOne };
        var sentenceB = new Argument<string?>("sentence-b") { Description = "The second sentence.", Arity = ArgumentArity.ZeroOrOne };
        var simMethod = Choice("--method", "The explanation: attnlrp (AttnLRP), cplrp (CP-LRP) or gradx (input x gradient).", ChoiceNames.Methods, "attnlrp");
        var simJson = new Option<string?>("--json") { Description = "Also write the similarity and both sentences' relevance as JSON.", HelpName = "FILE" };
        var simHtml = new Option<string?>("--html") { Description = "Also write one self-contained HTML page with both sentences side by side.", HelpName = "FILE" };
        var similarityCommand = new Command("similarity", "Explain the cosine similarity of two sentences under all-MiniLM-L6-v2 "
            + "(embedded, no download): each sentence's token relevance with the other's embedding held fixed.")
        {
            sentenceA, sentenceB, simMethod, simJson, simHtml,
        };
        similarityCommand.SetAction(parse => similarity(new SimilarityOptions
        {
            SentenceA = parse.GetValue(sentenceA),
            SentenceB = parse.GetValue(sentenceB),
            Method = Lookup(ChoiceNames.Methods, parse.GetValue(simMethod)),
            JsonPath = parse.GetValue(simJson),
            HtmlPath = parse.GetValue(simHtml),
        }));

        var imageDir = new Argument<string>("model-dir") { Description = "A ViT folder: config.json (image_size, patch_size, ...) and model.safetensors with torchvision's names." };
        var image = new Argument<string?>("image") { Description = "A PNG or JPEG image.", Arity = ArgumentArity.ZeroOrOne };
        var pixels = new Option<string?>("--pixels") { Description = "A safetensors file with a float tensor 'pixels' [1, 3, H, W], used as is.", HelpName = "FILE" };
        var imageTarget = new Option<long?>("--target") { Description = "The class whose logit is explained (default: the top class).", HelpName = "ID", CustomParser = ParseTarget };
        var imageMethod = Choice("--method", "The explanation: attnlrp (LXT's ViT recipe), cplrp or gradx.", ChoiceNames.Methods, "attnlrp");
        var gammaConv = new Option<double?>("--gamma-conv") { Description = "Gamma of the patch embedding (default: config.json's gamma_conv, else 0.25).", HelpName = "G" };
        var gammaLinear = new Option<double?>("--gamma-linear") { Description = "Gamma of the MLP and head linears (default: config.json's gamma_linear, else 0.05).", HelpName = "G" };
        var imageOut = new Option<string?>("--out") { Description = "Write the heatmap (and the image beside it) as PNG or JPEG, by the name's extension (.png, .jpg, .jpeg).", HelpName = "FILE" };
        var imageJson = new Option<string?>("--json") { Description = "Write {target, logit, relevance_map} as JSON.", HelpName = "FILE" };
        var imageMemory = MaxMemoryOption("A model whose estimated peak exceeds it is refused before it is loaded.");
        var explainImageCommand = new Command("explain-image", "Explain a Vision Transformer's class logit at the pixels.")
        {
            imageDir, image, pixels, imageTarget, imageMethod, gammaConv, gammaLinear, imageOut, imageJson, imageMemory,
        };
        explainImageCommand.SetAction(parse => explainImage(new ExplainImageOptions
        {
            ModelDir = parse.GetRequiredValue(imageDir),
            ImagePath = parse.GetValue(image),
            PixelsPath = parse.GetValue(pixels),
            Target = parse.GetValue(imageTarget),
            Method = Lookup(ChoiceNames.Methods, parse.GetValue(imageMethod)),
            GammaConv = parse.GetValue(gammaConv),
            GammaLinear = parse.GetValue(gammaLinear),
            OutPath = parse.GetValue(imageOut),
            JsonPath = parse.GetValue(imageJson),
            MaxMemory = parse.GetValue(imageMemory),
        }));

        _root = new Command("lrpgen", "Explain transformer predictions with AttnLRP (LrpGen).")
        {
            new HelpOption(),
            _version,
            explainCommand,
            similarityCommand,
            explainImageCommand,
        };
        // lrpgen evaluate faithfulness|recall (EvaluateCommandLine.cs)
        if (evaluate is not null) _root.Subcommands.Add(EvaluateCommandLine.Build(evaluate));
    }

    public ParseResult Parse(IReadOnlyList<string> args) =>
        // No response files: an argument starting with '@' is the user's text, not a file to expand.
        _root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>Whether the parse asks for help or the version (those win over other errors).</summary>
    public bool IsHelpOrVersion(ParseResult parse) =>
        parse.Action is HelpAction || (parse.Action is not null && parse.Action == _version.Action);

    private ExplainOptions Bind(ParseResult parse) => new()
    {
        ModelDir = parse.GetRequiredValue(_modelDir),
        // Absent options are null (an absent array option would otherwise read as an empty array).
        Ids = parse.GetResult(_ids) is null ? null : parse.GetValue(_ids),
        Text = parse.GetResult(_text) is null ? null : parse.GetValue(_text),
        Target = parse.GetValue(_target),
        Method = Lookup(ChoiceNames.Methods, parse.GetValue(_method)),
        JsonPath = parse.GetValue(_json),
        HtmlPath = parse.GetValue(_html),
        Device = Lookup(ChoiceNames.Devices, parse.GetValue(_device)),
        DType = Lookup(ChoiceNames.DTypes, parse.GetValue(_dtype)),
        Truncate = Lookup(ChoiceNames.TruncateSides, parse.GetValue(_truncate)),
        MaxMemory = parse.GetValue(_maxMemory),
    };

    private void ValidateInput(CommandResult command)
    {
        bool ids = command.GetResult(_ids) is not null, text = command.GetResult(_text) is not null;
        if (ids && text) command.AddError("--ids and --text are mutually exclusive: give the prompt one way.");
        else if (!ids && !text) command.AddError("no prompt: give --ids 5,17,3 or --text \"...\".");
        if (command.GetResult(_modelDir) is { Tokens.Count: > 0 } dir && string.IsNullOrWhiteSpace(dir.Tokens[0].Value))
            command.AddError("<model-dir> is empty.");
    }

    internal static long[]? ParseIds(ArgumentResult result)
    {
        var raw = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(" ", result.Tokens.Select(t => t.Value));
        var parts = raw.Split(',');
        var ids = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                result.AddError(part.Length == 0
                    ? $"--ids '{raw}': empty token id at position {i}; expected comma-separated non-negative integers, e.g. 5,17,3."
                    : $"--ids '{raw}': '{part}' is not a token id; expected comma-separated non-negative integers, e.g. 5,17,3.");
                return null;
            }
        }
        return ids;
    }

    private static Option<long?> MaxMemoryOption(string what) => new("--max-memory")
    {
        Description = "The memory the run may use, e.g. 8G, 512M (default: the memory available, MemAvailable or the cgroup limit). " + what,
        HelpName = "SIZE",
        CustomParser = ParseMemory,
    };

    private static long? ParseMemory(ArgumentResult result)
    {
        var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (MemoryBudget.ParseSize(raw) is long bytes) return bytes;
        result.AddError($"--max-memory '{raw}' is not a size: give a number with K, M, G or T, e.g. 8G or 512M.");
        return null;
    }

    private static long? ParseTarget(ArgumentResult result)
    {
        var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (long.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return id;
        result.AddError($"--target '{raw}' is not a token id (a non-negative integer).");
        return null;
    }

    /// <summary>An option taking one of a few words (case-insensitive); the value stays the word, mapped in Bind.</summary>
    private static Option<string> Choice<T>(string name, string description, IReadOnlyList<(string Name, T Value)> choices, string fallback)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join("|", choices.Select(c => c.Name)),
            DefaultValueFactory = _ => fallback,
        };
        option.Validators.Add(result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : fallback;
            if (!ChoiceNames.TryParse(choices, raw, out _))
                result.AddError($"{name} '{raw}' is not one of {ChoiceNames.List(choices)}.");
        });
        option.CompletionSources.Add(choices.Select(c => c.Name).ToArray());
        return option;
    }

    private static T Lookup<T>(IReadOnlyList<(string Name, T Value)> choices, string? word) =>
        ChoiceNames.TryParse(choices, word ?? "", out var value) ? value : choices[0].Value;
}
