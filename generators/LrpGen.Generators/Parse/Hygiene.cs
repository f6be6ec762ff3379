using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace LrpGen.Generators.Parse;

/// <summary>Keeps the identifiers the generated code introduces apart from every identifier of the user's code.
/// When no user identifier looks like one of the generator's own names, the generated code uses its short, readable
/// names; otherwise every generated identifier gets a prefix that no user identifier starts with.</summary>
internal static class Hygiene
{
    /// <summary>The fixed local and parameter names of the generated methods.</summary>
    public static readonly HashSet<string> FixedNames = new(StringComparer.Ordinal)
    {
        "ctx", "tape", "output", "gOutput", "options", "all", "childTape", "discarded", "gs", "ga", "gb", "gq", "gk", "gv", "t", "frame",
        "v__", "own", "input", "error",
    };

    /// <summary>Names the generated code numbers or derives (frames, loop indices, points, accumulators).</summary>
    private static readonly Regex NumberedNames = new(@"^(?:g_.*|gc_.*|(?:f|i|gx|point|changed|sequentialTape|sel)\d+)$", RegexOptions.CultureInvariant);

    /// <summary>Type and member names of the generated part of the class; a user declaration with one is an error.</summary>
    public static readonly string[] GeneratedMembers = { "LrpTape", "LrpForward", "LrpForwardCore", "LrpBackwardCore" };

    public static bool IsGeneratedMember(string name) =>
        Array.IndexOf(GeneratedMembers, name) >= 0 || (name.StartsWith("LrpFrame", StringComparison.Ordinal) && name.Length > 8 && name.Substring(8).All(char.IsDigit));

    /// <summary>Whether a name could be one the generator introduces, given its prefix.</summary>
    public static bool IsGeneratorName(string name, string prefix) =>
        prefix.Length == 0 ? FixedNames.Contains(name) || NumberedNames.IsMatch(name) : name.StartsWith(Stem(prefix), StringComparison.Ordinal);

    /// <summary>"" when no user identifier clashes with the generator's names, else "lrp_", "lrp1_", ...: a prefix whose
    /// stem no user identifier starts with (so also user names with a suffix appended can never equal a generated name).</summary>
    public static string ChoosePrefix(IEnumerable<string> userIdentifiers)
    {
        var names = new HashSet<string>(userIdentifiers.Select(n => n.TrimStart('@')), StringComparer.Ordinal);
        if (!names.Any(n => IsGeneratorName(n, ""))) return "";
        for (int i = 0; ; i++)
        {
            string stem = i == 0 ? "lrp" : "lrp" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!names.Any(n => n.StartsWith(stem, StringComparison.Ordinal))) return stem + "_";
        }
    }

    private static string Stem(string prefix) => prefix.Substring(0, prefix.Length - 1);
}
