using System.Collections.Generic;
using System.CommandLine;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>An option taking one of a few words, case-insensitively (<c>--method attnlrp|cplrp|gradx</c>), read back as
/// the value the word names. The option's value stays the word, so that the help shows the words and the default as
/// the user types them.</summary>
internal sealed class ChoiceOption<T> : Option<string>
{
    private readonly IReadOnlyList<(string Name, T Value)> _choices;

    public ChoiceOption(string name, string description, IReadOnlyList<(string Name, T Value)> choices, T fallback) : base(name)
    {
        _choices = choices;
        var fallbackName = choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, fallback)).Name;
        Description = description;
        HelpName = string.Join("|", choices.Select(c => c.Name));
        DefaultValueFactory = _ => fallbackName;
        Validators.Add(result =>
        {
            var raw = result.Tokens.Count > 0 ? result.Tokens[0].Value : fallbackName;
            if (!ChoiceNames.TryParse(choices, raw, out _))
                result.AddError($"{name} '{raw}' is not one of {ChoiceNames.List(choices)}.");
        });
        CompletionSources.Add(choices.Select(c => c.Name).ToArray());
    }

    /// <summary>The value named by the word given (or the default); the validator has refused any other word.</summary>
    public T ValueIn(ParseResult parse) =>
        ChoiceNames.TryParse(_choices, parse.GetValue(this) ?? "", out var value) ? value : _choices[0].Value;
}
