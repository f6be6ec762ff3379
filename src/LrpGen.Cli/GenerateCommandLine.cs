using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen generate</c>: its argument and options (one field each), the checks that make a
/// malformed value a parse error naming it, and the binding to <see cref="GenerateOptions"/>.</summary>
internal sealed class GenerateCommandLine
{
    public const int DefaultMaxNewTokens = 20;

    private readonly Argument<string> _modelDir = new("model-dir")
    {
        Description = "A causal LM: a Hugging Face folder (config.json plus model.safetensors; a family of docs/models.md), a GGUF file "
            + "or ollama:name[:tag]. A tokenizer.json there enables --text and shows tokens as text.",
    };

    private readonly Option<long[]?> _ids = new("--ids")
    {
        Description = "The prompt as comma-separated token ids, e.g. 5,17,3.",
        HelpName = "5,17,3",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = ExplainCommandLine.ParseIds,
    };

    private readonly Option<string?> _text = new("--text") { Description = "The prompt as text, tokenized with the model's tokenizer.", HelpName = "text" };
    private readonly Option<int?> _maxNewTokens = CommonOptions.Integer("--max-new-tokens", "The most tokens to generate.", "N", DefaultMaxNewTokens, minimum: 1);
    private readonly ChoiceOption<LrpMethod> _method = CommonOptions.Method("The explanation of each generated token: attnlrp (AttnLRP), cplrp (CP-LRP) or gradx (input x gradient).");
    private readonly Option<double?> _temperature = Number("--temperature", "0 (default): greedy, the top logit; above 0: sample from softmax(logits / T).", "T",
        v => v >= 0, "a number >= 0");
    private readonly Option<int?> _topK = CommonOptions.Integer("--top-k", "Sample among the K most probable tokens (needs --temperature).", "K", null, minimum: 1);
    private readonly Option<double?> _topP = Number("--top-p", "Sample among the most probable tokens whose probabilities add up to P (needs --temperature).", "P",
        v => v > 0 && v <= 1, "a number in (0, 1]");
    private readonly Option<int?> _seed = CommonOptions.Integer("--seed", "The sampling seed (default: random).", "S", null, minimum: int.MinValue);
    private readonly Option<string[]> _stop = new("--stop")
    {
        Description = "Stop once the generated text contains this text (repeatable; needs a tokenizer). Generation also stops at the model's eos_token_id.",
        HelpName = "TEXT",
        // One text per --stop; repeat the option for more.
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };
    private readonly Option<string?> _json = CommonOptions.OutputFile("--json", "Also write the generated tokens and the relevance matrix as JSON to this file.");
    private readonly Option<string?> _html = CommonOptions.OutputFile("--html", "Also write an interactive HTML page (hover or click a generated token) to this file.");
    private readonly ChoiceOption<DeviceChoice> _device = new("--device", "Where to run: cpu or cuda.", ChoiceNames.Devices, DeviceChoice.Cpu);
    private readonly ChoiceOption<DTypeChoice> _dtype = new("--dtype", "The dtype the model runs in: float32, bfloat16 or float16 (relevance is float32).",
        ChoiceNames.DTypes, DTypeChoice.Float32);

    public Command Command { get; }

    public GenerateCommandLine(CliConsole console)
    {
        Command = new Command("generate", "Continue a prompt (--ids or --text) with a causal LM, then explain every generated token at once: "
            + "the generated text, and for each generated token the relevance of the prompt and of the tokens generated before it.")
        {
            _modelDir, _ids, _text, _maxNewTokens, _method, _temperature, _topK, _topP, _seed, _stop, _json, _html, _device, _dtype,
        };
        Command.Validators.Add(ValidateInput);
        Command.SetAction(parse => new GenerateCommand(console.Stdout, console.Stderr, console.Colour).Run(Bind(parse)));
    }

    internal GenerateOptions Bind(ParseResult parse) => new()
    {
        ModelDir = parse.GetRequiredValue(_modelDir),
        Ids = parse.GetResult(_ids) is null ? null : parse.GetValue(_ids),
        Text = parse.GetResult(_text) is null ? null : parse.GetValue(_text),
        MaxNewTokens = parse.GetValue(_maxNewTokens) ?? DefaultMaxNewTokens,
        Method = _method.ValueIn(parse),
        Temperature = parse.GetValue(_temperature) ?? 0,
        TopK = parse.GetValue(_topK),
        TopP = parse.GetValue(_topP),
        Seed = parse.GetValue(_seed),
        Stop = parse.GetValue(_stop) ?? System.Array.Empty<string>(),
        JsonPath = parse.GetValue(_json),
        HtmlPath = parse.GetValue(_html),
        Device = _device.ValueIn(parse),
        DType = _dtype.ValueIn(parse),
    };

    private void ValidateInput(CommandResult command)
    {
        bool ids = command.GetResult(_ids) is not null, text = command.GetResult(_text) is not null;
        if (ids && text) command.AddError("--ids and --text are mutually exclusive: give the prompt one way.");
        else if (!ids && !text) command.AddError("no prompt: give --ids 5,17,3 or --text \"...\".");
        if (command.GetResult(_modelDir) is { Tokens.Count: > 0 } dir && string.IsNullOrWhiteSpace(dir.Tokens[0].Value))
            command.AddError("<model-dir> is empty.");
        // Raw tokens, not values: reading the value of an option that failed to parse would throw.
        bool sampling = command.GetResult(_temperature) is { Tokens.Count: > 0 } temperature
            && double.TryParse(temperature.Tokens[0].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t > 0;
        foreach (var option in new Option[] { _topK, _topP, _seed })
            if (!sampling && command.GetResult(option) is not null)
                command.AddError($"{option.Name} only applies to sampling: give --temperature above 0 as well (without it, generation is greedy).");
        if (command.GetResult(_stop) is { } stops)
            foreach (var stop in stops.Tokens)
                if (stop.Value.Length == 0) command.AddError("--stop is empty; give the text that ends generation.");
    }

    /// <summary>A floating-point option whose value must satisfy <paramref name="valid"/> (described by <paramref name="rule"/>).</summary>
    private static Option<double?> Number(string name, string description, string helpName, System.Func<double, bool> valid, string rule) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && valid(v)) return v;
            result.AddError($"{name} '{raw}' is not {rule}.");
            return null;
        },
    };
}
