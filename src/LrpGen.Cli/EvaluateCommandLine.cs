using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;
using LrpGen.Evaluation;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen evaluate faithfulness|recall</c>: options, their checks (a malformed value is a
/// parse error naming it), and the binding to <see cref="EvaluateOptions"/>.</summary>
internal static class EvaluateCommandLine
{
    public static Command Build(Func<EvaluateOptions, int> evaluate)
    {
        var command = new Command("evaluate", "Compare attribution methods (AttnLRP, CP-LRP, input x gradient, Integrated Gradients, SmoothGrad, "
            + "attention rollout, random): perturbation faithfulness (ABPC) or token identification on key-value recall. "
            + "Prints a table; --output writes CSV, Markdown and a PNG plot; --doc updates the results section of a Markdown file.");
        command.Subcommands.Add(Sub("faithfulness", "Perturbation faithfulness: remove tokens (zero their input embedding) most relevant first "
            + "and least relevant first; ABPC = (area(LeRF) - area(MoRF)) / unperturbed value. --task similarity: all-MiniLM-L6-v2 on "
            + "WordNet sentence pairs (Debian's wordnet-base); --task recall: the key-value recall model.", EvaluationKind.Faithfulness, evaluate));
        command.Subcommands.Add(Sub("recall", "Token identification on held-out key-value recall prompts: how often the most relevant token "
            + "is the value token that carries the answer (top-1 accuracy), and its mean rank.", EvaluationKind.Recall, evaluate));
        return command;
    }

    private static Command Sub(string name, string description, EvaluationKind kind, Func<EvaluateOptions, int> evaluate)
    {
        var task = new Option<string>("--task")
        {
            Description = "What to explain: similarity (all-MiniLM-L6-v2 on WordNet sentence pairs) or recall (the key-value recall model).",
            HelpName = "similarity|recall",
            DefaultValueFactory = _ => "similarity",
        };
        task.Validators.Add(result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "similarity";
            if (!string.Equals(raw, "similarity", StringComparison.OrdinalIgnoreCase) && !string.Equals(raw, "recall", StringComparison.OrdinalIgnoreCase))
                result.AddError($"--task '{raw}' is not one of similarity, recall.");
        });
        task.CompletionSources.Add("similarity", "recall");
        var examples = IntOption("--examples", kind == EvaluationKind.Faithfulness
            ? "Number of sentence pairs (similarity, default 250) or held-out prompts (recall, default 500)."
            : "Number of held-out prompts (default 500).", "N", null, 1);
        var methods = new Option<string>("--methods")
        {
            Description = $"Comma-separated methods: {AttributionMethods.List}, or all (default).",
            HelpName = "LIST",
            DefaultValueFactory = _ => "all",
        };
        methods.Validators.Add(result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "all";
            try { AttributionMethods.ParseList(raw); }
            catch (ArgumentException e) { result.AddError($"--methods '{raw}': {e.Message.Split(" (Parameter")[0]}"); }
        });
        var igSteps = IntOption("--ig-steps", "Integrated Gradients: points on the path from the zero embeddings (default 32).", "N", 32, 1);
        var samples = IntOption("--smoothgrad-samples", "SmoothGrad: noisy samples averaged (default 32).", "N", 32, 1);
        var noise = new Option<double>("--smoothgrad-noise")
        {
            Description = "SmoothGrad: noise standard deviation as a fraction of (max - min) of the input embeddings (default 0.1).",
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
        var seed = IntOption("--seed", "Seed of the prompts drawn, the random baseline and SmoothGrad's noise (default 1).", "N", 1, 0);
        var threads = IntOption("--threads", "TorchSharp's CPU threads (default: TorchSharp's choice).", "N", null, 1);
        var model = new Option<string?>("--model") { Description = $"The recall model folder (default {EvaluateCommand.DefaultModelDir}).", HelpName = "DIR" };
        var wordnet = new Option<string?>("--wordnet") { Description = "WordNet's data folder (default /usr/share/wordnet, Debian's wordnet-base).", HelpName = "DIR" };
        var output = new Option<string?>("--output") { Description = "Write NAME.csv, NAME.md and NAME.png (and the curves as CSV) into this folder.", HelpName = "DIR" };
        var doc = new Option<string?>("--doc") { Description = "Replace this run's section of a Markdown file (e.g. docs/evaluation.md) with the table, the plot and the command.", HelpName = "FILE" };

        var command = new Command(name, description) { examples, methods, igSteps, samples, noise, seed, threads, model, output, doc };
        if (kind == EvaluationKind.Faithfulness)
        {
            command.Options.Add(task);
            command.Options.Add(wordnet);
        }
        command.SetAction(parse => evaluate(new EvaluateOptions
        {
            Kind = kind,
            Task = kind == EvaluationKind.Faithfulness ? (parse.GetValue(task) ?? "similarity").ToLowerInvariant() : "recall",
            Examples = parse.GetValue(examples),
            Methods = AttributionMethods.ParseList(parse.GetValue(methods) ?? "all"),
            Settings = new AttributionSettings
            {
                IgSteps = parse.GetValue(igSteps) ?? 32,
                SmoothGradSamples = parse.GetValue(samples) ?? 32,
                SmoothGradNoise = parse.GetValue(noise),
                Seed = parse.GetValue(seed) ?? 1,
            },
            ModelDir = parse.GetValue(model),
            WordNetDir = kind == EvaluationKind.Faithfulness ? parse.GetValue(wordnet) : null,
            Threads = parse.GetValue(threads),
            OutputDir = parse.GetValue(output),
            DocPath = parse.GetValue(doc),
            CommandLine = "lrpgen " + string.Join(" ", parse.Tokens.Select(t => Quote(t.Value))),
        }));
        return command;
    }

    private static Option<int?> IntOption(string name, string description, string helpName, int? fallback, int minimum)
    {
        var option = new Option<int?>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= minimum) return v;
                result.AddError($"{name} '{raw}' is not an integer >= {minimum}.");
                return null;
            },
        };
        if (fallback is { } f) option.DefaultValueFactory = _ => f;
        return option;
    }

    private static string Quote(string token) =>
        token.Length > 0 && token.All(c => char.IsLetterOrDigit(c) || "-_./,=:+".Contains(c)) ? token : "'" + token.Replace("'", "'\\''") + "'";
}
