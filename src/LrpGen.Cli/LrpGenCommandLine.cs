using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Help;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>The command-line grammar of lrpgen (System.CommandLine, which also writes the help): the root command and
/// its subcommands, each defined in its own file (ExplainCommandLine.cs, GenerateCommandLine.cs, SimilarityCommandLine.cs,
/// ExplainImageCommandLine.cs, EvaluateCommandLine.cs).</summary>
internal sealed class LrpGenCommandLine
{
    private readonly Command _root;
    private readonly VersionOption _version = new();

    public LrpGenCommandLine(CliConsole console)
    {
        _root = new Command("lrpgen", "Explain transformer predictions with AttnLRP (LrpGen).")
        {
            new HelpOption(),
            _version,
            new ExplainCommandLine(console).Command,
            new GenerateCommandLine(console).Command,
            new SimilarityCommandLine(console).Command,
            new ExplainImageCommandLine(console).Command,
            EvaluateCommandLine.Create(console),
        };
    }

    public ParseResult Parse(IReadOnlyList<string> args) =>
        // No response files: an argument starting with '@' is the user's text, not a file to expand.
        _root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>Whether the parse asks for help or the version (those win over other errors).</summary>
    public bool IsHelpOrVersion(ParseResult parse) =>
        parse.Action is HelpAction || (parse.Action is not null && parse.Action == _version.Action);

    /// <summary>The command the parse reached, as typed: "lrpgen", "lrpgen explain", "lrpgen evaluate recall".</summary>
    public static string PathOf(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(result.Command.Name);
        names.Reverse();
        return string.Join(" ", names);
    }
}
