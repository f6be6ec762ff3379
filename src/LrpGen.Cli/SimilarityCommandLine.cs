using System.CommandLine;
using System.Linq;
using LrpGen.Models.Sentences;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen similarity</c>: its arguments and options (one field each) and the binding to
/// <see cref="SimilarityOptions"/>. An option is added here as a field, an entry in the command's list and a line in
/// <see cref="Bind"/>.</summary>
internal sealed class SimilarityCommandLine
{
    private readonly Argument<string?> _sentenceA = new("sentence-a") { Description = "The first sentence, or the query with --candidates (default: a built-in pair).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Argument<string?> _sentenceB = new("sentence-b") { Description = "The second sentence.", Arity = ArgumentArity.ZeroOrOne };
    private readonly Option<string> _model = new("--model")
    {
        Description = $"The model: a built-in name ({string.Join(", ", SentenceSimilarity.BuiltInModels.Select(b => b.Name))}), a sentence-transformers "
            + "folder (modules.json, 1_Pooling, ...), an ONNX file of a BERT encoder (vocab.txt beside it, or --vocab), or the .dll of a "
            + "SentenceTransformers.* package.",
        HelpName = "NAME|DIR|FILE",
        DefaultValueFactory = _ => SentenceSimilarity.DefaultModel,
    };
    private readonly Option<string?> _pooling = new("--pooling")
    {
        Description = "The pooling over tokens: cls, mean, max or last (default: the model's; required for an ONNX file or a .dll).",
        HelpName = "cls|mean|max|last",
    };
    private readonly Option<string?> _vocab = CommonOptions.OutputFile("--vocab", "The vocabulary (vocab.txt) of an ONNX model, when it is not beside the file.");
    private readonly Option<int?> _heads = CommonOptions.Integer("--heads", "The number of attention heads, for an ONNX graph that does not show it.", "N", null, 1);
    private readonly Option<string?> _candidates = CommonOptions.OutputFile("--candidates", "Rank the lines of this file (UTF-8, one candidate a line, "
        + "blank lines skipped) by similarity to the one sentence given, and explain why each of the top ones matched.");
    private readonly Option<int?> _top = CommonOptions.Integer("--top", "With --candidates: how many of the best candidates to explain.", "N", 5, 1);
    private readonly ChoiceOption<LrpMethod> _method = CommonOptions.Method("The explanation: attnlrp (AttnLRP), cplrp (CP-LRP) or gradx (input x gradient).");
    private readonly Option<string?> _json = CommonOptions.OutputFile("--json", "Also write the similarity (or the ranking) and both sides' token relevance as JSON.");
    private readonly Option<string?> _html = CommonOptions.OutputFile("--html", "Also write one self-contained HTML page with both sentences side by side.");

    public Command Command { get; }

    public SimilarityCommandLine(CliConsole console)
    {
        _model.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[0].Value)) result.AddError("--model is empty.");
        });
        _pooling.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !PoolingModes.TryParse(result.Tokens[0].Value, out _))
                result.AddError($"--pooling '{result.Tokens[0].Value}' is not one of {PoolingModes.List}.");
        });
        Command = new Command("similarity", "Explain the cosine similarity of two sentences under a sentence-embedding model (default "
            + "all-MiniLM-L6-v2, embedded, no download): each sentence's token relevance with the other's embedding held fixed. "
            + "With --candidates, rank candidates against one query and explain the top ones.")
        {
            _sentenceA, _sentenceB, _model, _pooling, _vocab, _heads, _candidates, _top, _method, _json, _html,
        };
        Command.Validators.Add(result =>
        {
            bool ranking = result.GetResult(_candidates) is not null;
            bool a = result.GetResult(_sentenceA) is { Tokens.Count: > 0 }, b = result.GetResult(_sentenceB) is { Tokens.Count: > 0 };
            if (ranking && (!a || b)) result.AddError("--candidates ranks candidates against one query: give exactly one sentence.");
            if (ranking && result.GetResult(_html) is not null) result.AddError("--html shows one pair; with --candidates write --json instead.");
            if (!ranking && result.GetResult(_top) is { Implicit: false }) result.AddError("--top needs --candidates FILE.");
        });
        Command.SetAction(parse => new SimilarityCommand(console.Stdout, console.Stderr, console.Colour).Run(Bind(parse)));
    }

    internal SimilarityOptions Bind(ParseResult parse) => new()
    {
        SentenceA = parse.GetValue(_sentenceA),
        SentenceB = parse.GetValue(_sentenceB),
        Method = _method.ValueIn(parse),
        JsonPath = parse.GetValue(_json),
        HtmlPath = parse.GetValue(_html),
        Model = parse.GetValue(_model) ?? SentenceSimilarity.DefaultModel,
        Pooling = PoolingModes.TryParse(parse.GetValue(_pooling), out var pooling) ? pooling : null,
        VocabularyPath = parse.GetValue(_vocab),
        Heads = parse.GetValue(_heads),
        CandidatesPath = parse.GetValue(_candidates),
        Top = parse.GetValue(_top) ?? 5,
    };
}
