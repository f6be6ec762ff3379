using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace LrpGen.Models.Tokenizers;

/// <summary>BERT's tokenizer over a vocab.txt, as Hugging Face's BertTokenizerFast runs it: special tokens written in
/// the text ([CLS], [SEP], [PAD], [UNK], [MASK], case-sensitive) are taken as they are; the rest goes through
/// <see cref="BertBasicTokenizer"/> (cased or uncased, accent stripping, CJK splitting: <see cref="WordPieceOptions"/>)
/// and greedy longest-match WordPiece with "##" continuations, where a word longer than
/// <see cref="MaxCharactersPerWord"/> characters, or one with a part that matches nothing, is one [UNK]; and
/// [CLS] ... [SEP] go around it. Tested against the Hugging Face tokenizers library on the same vocabulary.</summary>
public sealed class BertWordPieceTokenizer
{
    /// <summary>Hugging Face's max_input_chars_per_word: longer words are [UNK].</summary>
    public const int MaxCharactersPerWord = 100;

    public const string ClsToken = "[CLS]", SepToken = "[SEP]", UnkToken = "[UNK]", PadToken = "[PAD]", MaskToken = "[MASK]";

    private const string Continuation = "##";

    private static readonly string[] SpecialTokens = { ClsToken, SepToken, UnkToken, PadToken, MaskToken };

    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _ids;

    /// <param name="vocabulary">Token i has id i (the lines of vocab.txt); where a token appears twice its last id
    /// counts. Must hold [CLS], [SEP], [UNK] and [PAD].</param>
    /// <param name="options">The basic tokenizer's choices.</param>
    /// <param name="source">Names the vocabulary in messages.</param>
    public BertWordPieceTokenizer(IReadOnlyList<string> vocabulary, WordPieceOptions options, string source = "the vocabulary")
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _pieces = vocabulary.ToArray();
        _ids = new Dictionary<string, int>(_pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < _pieces.Length; i++) _ids[_pieces[i]] = i;
        int Special(string token) => _ids.TryGetValue(token, out int id) ? id
            : throw new InvalidDataException($"{source} has no '{token}' token, so it is not a BERT WordPiece vocabulary.");
        ClsId = Special(ClsToken);
        SepId = Special(SepToken);
        UnkId = Special(UnkToken);
        PadId = Special(PadToken);
        Description = $"WordPiece from {source}, {(options.LowerCase ? "uncased" : "cased")}, accents {(options.StripAccents ? "stripped" : "kept")}, "
            + $"CJK ideographs {(options.SplitChineseCharacters ? "split" : "not split")}";
    }

    /// <summary>What it is, for reports.</summary>
    public string Description { get; }

    public WordPieceOptions Options { get; }

    public long ClsId { get; }
    public long SepId { get; }
    public long UnkId { get; }
    public long PadId { get; }
    public int VocabularySize => _pieces.Length;

    /// <summary>The pieces by id.</summary>
    public IReadOnlyList<string> Vocabulary => _pieces;

    /// <summary>Reads a vocab.txt (one token a line, the line number is the id; trailing white space is not part of a
    /// token, as the tokenizers library reads it).</summary>
    public static BertWordPieceTokenizer FromVocabFile(string path, WordPieceOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The vocabulary file {path} does not exist.", path);
        using var stream = File.OpenRead(path);
        return FromVocab(stream, options, path);
    }

    /// <summary>Reads a vocab.txt from a stream (e.g. a package's embedded one); <paramref name="source"/> names it in messages.</summary>
    public static BertWordPieceTokenizer FromVocab(Stream stream, WordPieceOptions options, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line.TrimEnd());
        return new BertWordPieceTokenizer(lines, options, source);
    }

    /// <summary>The vocabulary piece of an id.</summary>
    public string Piece(long id) =>
        id >= 0 && id < _pieces.Length ? _pieces[id] : throw new ArgumentOutOfRangeException(nameof(id), $"id {id} is not in the vocabulary of {_pieces.Length} pieces.");

    public bool TryGetId(string piece, out int id) => _ids.TryGetValue(piece, out id);

    /// <summary>[CLS], the text's pieces, [SEP]; a text of more than <paramref name="maxTokens"/> - 2 pieces keeps its
    /// first ones (as Hugging Face truncates).</summary>
    public TokenizedText Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens < 3)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"maxTokens is {maxTokens}; it must leave room for [CLS], one piece and [SEP] (3 or more).");
        var body = Pieces(text);
        bool truncated = body.Count > maxTokens - 2;
        var ids = new long[Math.Min(body.Count, maxTokens - 2) + 2];
        ids[0] = ClsId;
        for (int i = 1; i < ids.Length - 1; i++) ids[i] = body[i - 1];
        ids[^1] = SepId;
        return new TokenizedText(ids, ids.Select(Piece).ToArray(), truncated);
    }

    /// <summary>The ids of the text without [CLS] and [SEP] and without a limit.</summary>
    public List<long> Pieces(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<long>();
        int start = 0;
        while (start <= text.Length)
        {
            var (at, special) = NextSpecialToken(text, start);
            foreach (var word in BertBasicTokenizer.Words(text[start..at], Options))
                WordPiece(word, ids);
            if (special is null) break;
            ids.Add(_ids[special]);
            start = at + special.Length;
        }
        return ids;
    }

    /// <summary>The first special token at or after <paramref name="start"/> (the longest where several start there);
    /// (text length, null) when none.</summary>
    private static (int At, string? Token) NextSpecialToken(string text, int start)
    {
        int best = text.Length;
        string? token = null;
        foreach (var special in SpecialTokens)
        {
            int at = text.IndexOf(special, start, StringComparison.Ordinal);
            if (at >= 0 && (at < best || (at == best && special.Length > token!.Length)))
            {
                best = at;
                token = special;
            }
        }
        return (best, token);
    }

    /// <summary>Greedy longest-prefix WordPiece of one word; the whole word is one [UNK] when it is too long or a part
    /// of it matches nothing.</summary>
    private void WordPiece(string word, List<long> ids)
    {
        // Offsets of the characters (Unicode scalar values), so that no piece splits a surrogate pair.
        var offsets = new List<int>();
        for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1) offsets.Add(i);
        if (offsets.Count > MaxCharactersPerWord)
        {
            ids.Add(UnkId);
            return;
        }
        offsets.Add(word.Length);
        int first = ids.Count;
        int startChar = 0, chars = offsets.Count - 1;
        while (startChar < chars)
        {
            int found = -1, endChar = chars;
            for (; endChar > startChar; endChar--)
            {
                string candidate = word[offsets[startChar]..offsets[endChar]];
                if (startChar > 0) candidate = Continuation + candidate;
                if (_ids.TryGetValue(candidate, out found)) break;
                found = -1;
            }
            if (found < 0)
            {
                ids.RemoveRange(first, ids.Count - first);
                ids.Add(UnkId);
                return;
            }
            ids.Add(found);
            startChar = endChar;
        }
    }
}
