using System;
using System.Text;

namespace LrpGen.Cli;

/// <summary>Token text as shown in the terminal and in HTML: characters that would change how the rest of the line
/// reads are written as escapes — control characters (newline, tab, ESC starting a terminal sequence), line and
/// paragraph separators, and the bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE and its kin) that reorder
/// what follows them.</summary>
public static class DisplayText
{
    /// <summary>The text with those characters escaped (<c>\n</c>, <c>\t</c>, <c>\u202e</c>); an empty text as ∅.</summary>
    public static string Visible(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return "∅";
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
            sb.Append(ch switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when NeedsEscape(ch) => $"\\u{(int)ch:x4}",
                _ => ch.ToString(),
            });
        return sb.ToString();
    }

    /// <summary>Control characters, U+2028/U+2029, and the bidirectional formatting characters: ALM (U+061C),
    /// LRM/RLM (U+200E/F), LRE/RLE/PDF/LRO/RLO (U+202A-U+202E), LRI/RLI/FSI/PDI (U+2066-U+2069).</summary>
    public static bool NeedsEscape(char ch) =>
        char.IsControl(ch)
        || ch is '\u2028' or '\u2029' or '\u061c' or '\u200e' or '\u200f'
        || ch is >= '\u202a' and <= '\u202e'
        || ch is >= '\u2066' and <= '\u2069';
}
