using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace LrpGen.Models.Tokenizers;

/// <summary>BERT's basic tokenizer: the text normalised and cut into words before WordPiece, with the semantics of
/// the Hugging Face tokenizers library's BertNormalizer and BertPreTokenizer (what BertTokenizerFast runs):
/// <list type="number">
/// <item>Clean: U+0000, U+FFFD and every "other" character (categories Cc, Cf, Cs, Co, Cn; not tab, newline or
/// carriage return) are dropped; every white-space character becomes a space.</item>
/// <item>CJK ideographs (the ranges of <see cref="IsChineseCharacter"/>) get a space on each side, when chosen.</item>
/// <item>Accents: canonical decomposition (NFD), then non-spacing marks (Mn) dropped, when chosen. This also
/// decomposes Hangul syllables into jamo and drops the voicing marks of kana, as the library does.</item>
/// <item>Lower case, when chosen (after accent stripping, as the library orders it).</item>
/// <item>Words: split at white space; every punctuation character (ASCII punctuation, which includes $ + &lt; = &gt;
/// ^ ` | ~, or a Unicode P* category) is a word of its own.</item>
/// </list>
/// Microsoft.ML.Tokenizers' BertTokenizer (2.0.1) was tried first and differs from the library on ordinary text: it
/// drops + = $ € and emoji instead of keeping them (or giving [UNK]), joins words across tabs and newlines, keeps
/// Hangul syllables whole and treats U+200B as a space; so this is written out here and tested against the library.</summary>
public static class BertBasicTokenizer
{
    /// <summary>The words of <paramref name="text"/> after normalisation, in order.</summary>
    public static List<string> Words(string text, WordPieceOptions options)
    {
        string normalized = Normalize(text, options);
        var words = new List<string>();
        var word = new StringBuilder();
        void Flush()
        {
            if (word.Length > 0) words.Add(word.ToString());
            word.Clear();
        }
        foreach (var rune in normalized.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
                Flush();
            else if (IsPunctuation(rune))
            {
                Flush();
                words.Add(rune.ToString());
            }
            else
                word.Append(rune.ToString());
        }
        Flush();
        return words;
    }

    /// <summary>Steps 1 to 4: the normalised text.</summary>
    public static string Normalize(string text, WordPieceOptions options)
    {
        var cleaned = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value == 0 || rune.Value == 0xFFFD || IsControl(rune)) continue;
            if (IsWhiteSpace(rune))
                cleaned.Append(' ');
            else if (options.SplitChineseCharacters && IsChineseCharacter(rune.Value))
                cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else
                cleaned.Append(rune.ToString());
        }
        string result = cleaned.ToString();
        if (options.StripAccents)
        {
            var stripped = new StringBuilder(result.Length);
            foreach (var rune in result.Normalize(NormalizationForm.FormD).EnumerateRunes())
                if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark)
                    stripped.Append(rune.ToString());
            result = stripped.ToString();
        }
        return options.LowerCase ? result.ToLowerInvariant() : result;
    }

    private static bool IsWhiteSpace(Rune rune) => rune.Value is '\t' or '\n' or '\r' || Rune.IsWhiteSpace(rune);

    private static bool IsControl(Rune rune) =>
        rune.Value is not ('\t' or '\n' or '\r')
        && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    private static bool IsPunctuation(Rune rune) =>
        rune.Value is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>The CJK Unified Ideographs blocks (and compatibility ideographs) that BERT splits; not kana or Hangul.</summary>
    public static bool IsChineseCharacter(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
