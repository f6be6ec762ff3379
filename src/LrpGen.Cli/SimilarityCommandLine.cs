using System.CommandLine;

namespace LrpGen.Cli;

/// <summary>The grammar of <c>lrpgen similarity</c>: its arguments and options (one field each) and the binding to
/// <see cref="SimilarityOptions"/>. An option is added here as a field, an entry in the command's list and a line in
/// <see cref="Bind"/>.</summary>
internal sealed class SimilarityCommandLine
{
    private readonly Argument<string?> _sentenceA = new("sentence-a") { Description = "The first sentence (default: a built-in pair).", Arity = ArgumentArity.ZeroOrOne };
    private readonly Argument<string?> _sentenceB = new("sentence-b") { Description = "The second sentence.", Arity = ArgumentArity.ZeroOrOne };
    private readonly ChoiceOption<LrpMethod> _method = CommonOptions.Method("The explanation: attnlrp (AttnLRP), cplrp (CP-LRP) or gradx (input x gradient).");
    private readonly Option<string?> _json = CommonOptions.OutputFile("--json", "Also write the similarity and both sentences' relevance as JSON.");
    private readonly Option<string?> _html = CommonOptions.OutputFile("--html", "Also write one self-contained HTML page with both sentences side by side.");

    public Command Command { get; }

    public SimilarityCommandLine(CliConsole console)
    {
        Command = new Command("similarity", "Explain the cosine similarity of two sentences under all-MiniLM-L6-v2 "
            + "(embedded, no download): each sentence's token relevance with the other's embedding held fixed.")
        {
            _sentenceA, _sentenceB, _method, _json, _html,
        };
        Command.SetAction(parse => new SimilarityCommand(console.Stdout, console.Stderr, console.Colour).Run(Bind(parse)));
    }

    internal SimilarityOptions Bind(ParseResult parse) => new()
    {
        SentenceA = parse.GetValue(_sentenceA),
        SentenceB = parse.GetValue(_sentenceB),
        Method = _method.ValueIn(parse),
        JsonPath = parse.GetValue(_json),
        HtmlPath = parse.GetValue(_html),
    };
}
