using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen explain</c>: its argument and options (one field each), the checks that make a
/// malformed value a parse error naming it, and the binding to <see cref="ExplainOptions"/>. An option is added here
/// as a field, an entry in the command's list and a line in <see cref="Bind"/>.</summary>
internal sealed class ExplainCommandLine
{
    private readonly Argument<string> _modelDir = new("model-dir")
    {
        Description = "A Hugging Face model folder: config.json plus model.safetensors (or a sharded index); "
            + "model_type llama, qwen3_moe, gpt2 or bert. A tokenizer.json there enables --text and shows tokens as text. "
            + "Or a GGUF file (model.gguf, or ollama:name[:tag] from Ollama's models folder), tokenized by its own vocabulary.",
    };

    private readonly Option<long[]?> _ids = new("--ids")
    {
        Description = "The prompt as comma-separated token ids, e.g. 5,17,3.",
        HelpName = "5,17,3",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = ParseIds,
    };

    private readonly Option<string?> _text = new("--text")
    {
        Description = "The prompt as text, tokenized with the folder's tokenizer.json.",
        HelpName = "text",
    };

    private readonly Option<long?> _target = CommonOptions.Target("The token id whose next-token logit is explained (default: the top logit).");
    private readonly ChoiceOption<LrpMethod> _method = CommonOptions.Method("The explanation: attnlrp (AttnLRP), cplrp (CP-LRP) or gradx (input x gradient).");
    private readonly Option<string?> _json = CommonOptions.OutputFile("--json", "Also write the relevance (per token and per block output) as JSON to this file.");
    private readonly Option<string?> _html = CommonOptions.OutputFile("--html", "Also write a self-contained HTML page with the coloured tokens to this file.");
    private readonly ChoiceOption<DeviceChoice> _device = new("--device", "Where to run: cpu or cuda.", ChoiceNames.Devices, DeviceChoice.Cpu);
    private readonly ChoiceOption<DTypeChoice> _dtype = new("--dtype", "The dtype the model runs in: float32, bfloat16 or float16 (relevance is float32).",
        ChoiceNames.DTypes, DTypeChoice.Float32);
    private readonly ChoiceOption<TruncateChoice> _truncate = new("--truncate", "A prompt longer than the model's positions (max_position_embeddings, "
        + "GPT-2's n_positions) is an error; left drops its first tokens, right its last ones (with a notice).", ChoiceNames.TruncateSides, TruncateChoice.None);
    private readonly Option<long?> _maxMemory = CommonOptions.MaxMemory("A prompt whose estimated peak exceeds it is refused before the model is loaded.");

    public Command Command { get; }

    public ExplainCommandLine(CliConsole console)
    {
        Command = new Command("explain", "Explain the next-token logit of a causal LM (or the class logit of a BERT classifier) for one prompt, "
            + "given with --ids or --text: token relevance as a terminal heatmap, the target token and its logit.")
        {
            _modelDir, _ids, _text, _target, _method, _json, _html, _device, _dtype, _truncate, _maxMemory,
        };
        Command.Validators.Add(ValidateInput);
        Command.SetAction(parse => new ExplainCommand(console.Stdout, console.Stderr, console.Colour).Run(Bind(parse)));
    }

    internal ExplainOptions Bind(ParseResult parse) => new()
    {
        ModelDir = parse.GetRequiredValue(_modelDir),
        // Absent options are null (an absent array option would otherwise read as an empty array).
        Ids = parse.GetResult(_ids) is null ? null : parse.GetValue(_ids),
        Text = parse.GetResult(_text) is null ? null : parse.GetValue(_text),
        Target = parse.GetValue(_target),
        Method = _method.ValueIn(parse),
        JsonPath = parse.GetValue(_json),
        HtmlPath = parse.GetValue(_html),
        Device = _device.ValueIn(parse),
        DType = _dtype.ValueIn(parse),
        Truncate = _truncate.ValueIn(parse),
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
}
