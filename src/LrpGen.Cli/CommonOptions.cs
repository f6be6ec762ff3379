using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace LrpGen.Cli;

/// <summary>The options several commands share, each made in one place: the explanation method, a token id or class,
/// an output file, the memory bound, a bounded integer. A command's own file (ExplainCommandLine.cs, ...) lists which it
/// takes.</summary>
internal static class CommonOptions
{
    public static ChoiceOption<LrpMethod> Method(string description) =>
        new("--method", description, ChoiceNames.Methods, LrpMethod.AttnLrp);

    /// <summary>A <c>--target</c>: a non-negative integer (the command checks it against its model).</summary>
    public static Option<long?> Target(string description) => new("--target")
    {
        Description = description,
        HelpName = "ID",
        CustomParser = result =>
        {
            var raw = Single(result);
            if (long.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return id;
            result.AddError($"--target '{raw}' is not a token id (a non-negative integer).");
            return null;
        },
    };

    /// <summary>An output file (<c>--json</c>, <c>--html</c>, <c>--out</c>); <see cref="OutputTargets"/> checks it before any work.</summary>
    public static Option<string?> OutputFile(string name, string description) => new(name) { Description = description, HelpName = "FILE" };

    /// <summary>An input or output folder (<c>--model</c>, <c>--output</c>).</summary>
    public static Option<string?> Folder(string name, string description) => new(name) { Description = description, HelpName = "DIR" };

    /// <summary><c>--max-memory 8G</c>: the bytes, or a parse error naming the size.</summary>
    public static Option<long?> MaxMemory(string what) => new("--max-memory")
    {
        Description = "The memory the run may use, e.g. 8G, 512M (default: the memory available, MemAvailable or the cgroup limit). " + what,
        HelpName = "SIZE",
        CustomParser = result =>
        {
            var raw = Single(result);
            if (MemoryBudget.ParseSize(raw) is long bytes) return bytes;
            result.AddError($"--max-memory '{raw}' is not a size: give a number with K, M, G or T, e.g. 8G or 512M.");
            return null;
        },
    };

    /// <summary>An integer option that is at least <paramref name="minimum"/>; <paramref name="fallback"/> null: absent reads as null.</summary>
    public static Option<int?> Integer(string name, string description, string helpName, int? fallback, int minimum)
    {
        var option = new Option<int?>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                var raw = Single(result);
                if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= minimum) return v;
                result.AddError($"{name} '{raw}' is not an integer >= {minimum}.");
                return null;
            },
        };
        if (fallback is { } f) option.DefaultValueFactory = _ => f;
        return option;
    }

    private static string Single(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
}
