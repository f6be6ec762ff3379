using System;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using LrpGen.Evaluation;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen evaluate faithfulness|recall</c>: the options of each (one field each), their
/// checks (a malformed value is a parse error naming it), and the binding to <see cref="EvaluateOptions"/>. An option
/// is added here as a field, an entry in <see cref="Command"/>'s list and a line in <see cref="Bind"/>.</summary>
internal sealed class EvaluateCommandLine
{
    private static readonly (string Name, string Task)[] Tasks = { ("similarity", "similarity"), ("recall", "recall") };

    private readonly EvaluationKind _kind;
    private readonly ChoiceOption<string> _task = new("--task",
        "What to explain: similarity (all-MiniLM-L6-v2 on WordNet sentence pairs) or recall (the key-value recall model).", Tasks, "similarity");
    private readonly Option<int?> _examples;
    private readonly Option<string> _methods = new("--methods")
    {
        Description = $"Comma-separated methods: {AttributionMethods.List}, or all.",
        HelpName = "LIST",
        DefaultValueFactory = _ => "all",
    };
    private readonly Option<int?> _igSteps = CommonOptions.Integer("--ig-steps", "Integrated Gradients: points on the path from the zero embeddings.", "N", 32, 1);
    private readonly Option<int?> _samples = CommonOptions.Integer("--smoothgrad-samples", "SmoothGrad: noisy samples averaged.", "N", 32, 1);
    private readonly Option<double> _noise = new("--smoothgrad-noise")
    {
        Description = "SmoothGrad: noise standard deviation as a fraction of (max - min) of the input embeddings.",
        HelpName = "X",
        DefaultValueFactory = _ => 0.1,
        CustomParser = result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v)) return v;
            result.AddError($"--smoothgrad-noise '{raw}' is not a number >= 0.");
            return 0;
        },
    };
    private readonly Option<int?> _seed = CommonOptions.Integer("--seed", "Seed of the prompts drawn, the random baseline and SmoothGrad's noise.", "N", 1, 0);
    private readonly Option<int?> _threads = CommonOptions.Integer("--threads", "TorchSharp's CPU threads (default: TorchSharp's choice).", "N", null, 1);
    private readonly Option<string?> _model = CommonOptions.Folder("--model", $"The recall model folder (default {EvaluateCommand.DefaultModelDir}).");
    private readonly Option<string?> _wordnet = CommonOptions.Folder("--wordnet", $"WordNet's data folder (default {WordNetPairs.DefaultFolder}, Debian's wordnet-base).");
    private readonly Option<string?> _output = CommonOptions.Folder("--output", "Write NAME.csv, NAME.md and NAME.png (and the curves as CSV) into this folder.");
    private readonly Option<string?> _doc = CommonOptions.OutputFile("--doc", "Replace this run's section of a Markdown file (e.g. docs/evaluation.md) with the table, the plot and the command.");

    public Command Command { get; }

    /// <summary><c>evaluate</c> with its two subcommands.</summary>
    public static Command Create(CliConsole console)
    {
        var evaluate = new Command("evaluate", "Compare attribution methods (AttnLRP, CP-LRP, input x gradient, Integrated Gradients, SmoothGrad, "
            + "attention rollout, random): perturbation faithfulness (ABPC) or token identification on key-value recall. "
            + "Prints a table; --output writes CSV, Markdown and a PNG plot; --doc updates the results section of a Markdown file.");
        evaluate.Subcommands.Add(new EvaluateCommandLine(console, EvaluationKind.Faithfulness, "faithfulness",
            "Perturbation faithfulness: remove tokens (zero their input embedding) most relevant first and least relevant first; "
            + "ABPC = (area(LeRF) - area(MoRF)) / unperturbed value. --task similarity: all-MiniLM-L6-v2 on WordNet sentence pairs "
            + "(Debian's wordnet-base); --task recall: the key-value recall model.").Command);
        evaluate.Subcommands.Add(new EvaluateCommandLine(console, EvaluationKind.Recall, "recall",
            "Token identification on held-out key-value recall prompts: how often the most relevant token is the value token "
            + "that carries the answer (top-1 accuracy), how often the value and the queried key are the two most relevant tokens "
            + "(both in top 2), and the value's mean rank; for the answer's logit and for its contrast with the key's other values.").Command);
        return evaluate;
    }

    private EvaluateCommandLine(CliConsole console, EvaluationKind kind, string name, string description)
    {
        _kind = kind;
        _examples = CommonOptions.Integer("--examples", kind == EvaluationKind.Faithfulness
            ? $"Number of sentence pairs (similarity, default {EvaluateCommand.DefaultPairs}) or held-out prompts (recall, default {EvaluateCommand.DefaultPrompts})."
            : $"Number of held-out prompts (default {EvaluateCommand.DefaultPrompts}).", "N", null, 1);
        _methods.Validators.Add(result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "all";
            try { AttributionMethods.ParseList(raw); }
            catch (ArgumentException e) { result.AddError($"--methods '{raw}': {e.Message.Split(" (Parameter")[0]}"); }
        });
        Command = new Command(name, description) { _examples, _methods, _igSteps, _samples, _noise, _seed, _threads, _model, _output, _doc };
        if (kind == EvaluationKind.Faithfulness)
        {
            Command.Options.Add(_task);
            Command.Options.Add(_wordnet);
        }
        Command.SetAction(parse => new EvaluateCommand(console.Stdout, console.Stderr).Run(Bind(parse)));
    }

    internal EvaluateOptions Bind(ParseResult parse) => new()
    {
        Kind = _kind,
        Task = _kind == EvaluationKind.Faithfulness ? _task.ValueIn(parse) : "recall",
        Examples = parse.GetValue(_examples),
        Methods = AttributionMethods.ParseList(parse.GetValue(_methods) ?? "all"),
        Settings = new AttributionSettings
        {
            IgSteps = parse.GetValue(_igSteps) ?? 32,
            SmoothGradSamples = parse.GetValue(_samples) ?? 32,
            SmoothGradNoise = parse.GetValue(_noise),
            Seed = parse.GetValue(_seed) ?? 1,
        },
        ModelDir = parse.GetValue(_model),
        WordNetDir = _kind == EvaluationKind.Faithfulness ? parse.GetValue(_wordnet) : null,
        Threads = parse.GetValue(_threads),
        OutputDir = parse.GetValue(_output),
        DocPath = parse.GetValue(_doc),
        CommandLine = "lrpgen " + string.Join(" ", parse.Tokens.Select(t => Quote(t.Value))),
    };

    private static string Quote(string token) =>
        token.Length > 0 && token.All(c => char.IsLetterOrDigit(c) || "-_./,=:+".Contains(c)) ? token : "'" + token.Replace("'", "'\\''") + "'";
}
