using System.IO;
using LrpGen.Models.Tests.HuggingFace;
using LrpGen.Models.Tokenizers;
using Xunit;

namespace LrpGen.Models.Tests.Tokenizers;

/// <summary>tokenizer.json through the Hugging Face tokenizers library: a byte-level BPE with RoBERTa's
/// post-processor and a SentencePiece Unigram with XLM-R's, each tiny enough that the expected ids are derived by
/// hand in the comments (merges applied in rank order; the Unigram segmentation of highest total score).</summary>
public class TokenizerJsonTokenizerTests
{
    [Fact]
    public void RobertaByteLevelBpe()
    {
        using var temp = new TempFolder();
        using var tokenizer = TokenizerJsonTokenizer.Load(TokenizerJsonFixtures.Write(temp.Path, "tokenizer.json", TokenizerJsonFixtures.RobertaBpe));
        // "Hello" -> H e l l o -> He l l o -> He ll o -> Hell o -> Hello (15); " world" -> Ġ w o r l d -> Ġw o r l d
        // -> Ġw or l d -> Ġwor l d -> Ġwor ld -> Ġworld (19); "!" (21); <s> (0) before, </s> (2) after.
        var encoding = tokenizer.Encode("Hello world!", 512);
        Assert.Equal(new long[] { 0, 15, 19, 21, 2 }, encoding.Ids);
        Assert.Equal(new[] { "<s>", "Hello", "Ġworld", "!", "</s>" }, encoding.Pieces);
        Assert.False(encoding.Truncated);
        Assert.Equal(new long[] { 0 }, tokenizer.Prefix);
        Assert.Equal(new long[] { 2 }, tokenizer.Suffix);
        // " Hello": no merge joins Ġ and H, so Ġ (8) then Hello (15).
        Assert.Equal(new long[] { 0, 15, 19, 21, 8, 15, 19, 21, 2 }, tokenizer.Encode("Hello world! Hello world!", 512).Ids);
        var cut = tokenizer.Encode("Hello world! Hello world!", 6);
        Assert.Equal(new long[] { 0, 15, 19, 21, 8, 2 }, cut.Ids);
        Assert.True(cut.Truncated);
        Assert.Null(tokenizer.PadId);
        Assert.Equal(22, tokenizer.VocabularySize);
        Assert.StartsWith("BPE from ", tokenizer.Description);
    }

    [Fact]
    public void XlmrSentencePieceUnigram()
    {
        using var temp = new TempFolder();
        // The file asks for truncation at 4 and padding to 16; a single text is neither cut by the file nor padded.
        string json = TokenizerJsonFixtures.XlmrUnigram
            .Replace("\"truncation\": null", "\"truncation\": {\"direction\": \"Right\", \"max_length\": 4, \"strategy\": \"LongestFirst\", \"stride\": 0}")
            .Replace("\"strategy\": \"BatchLongest\"", "\"strategy\": {\"Fixed\": 16}");
        using var tokenizer = TokenizerJsonTokenizer.Load(TokenizerJsonFixtures.Write(temp.Path, "tokenizer.json", json));
        // "▁hello": ▁hello (-3) beats ▁he + llo (-5); "▁world!": ▁world + ! (-6) beats ▁wor + ld + ! (-7).
        var encoding = tokenizer.Encode("hello world!", 512);
        Assert.Equal(new long[] { 0, 5, 8, 18, 2 }, encoding.Ids);
        Assert.Equal(new[] { "<s>", "▁hello", "▁world", "!", "</s>" }, encoding.Pieces);
        // "▁z": ▁ (4) and z, which no piece covers: <unk> (3).
        Assert.Equal(new long[] { 0, 5, 4, 3, 2 }, tokenizer.Encode("hello z", 512).Ids);
        var twice = tokenizer.Encode("hello world! hello world!", 512);
        Assert.Equal(new long[] { 0, 5, 8, 18, 5, 8, 18, 2 }, twice.Ids);
        Assert.False(twice.Truncated);
        Assert.Equal(new long[] { 0, 5, 8, 2 }, tokenizer.Encode("hello world! hello world!", 4).Ids);
        Assert.Equal(1L, tokenizer.PadId);
    }

    [Fact]
    public void AMissingOrBrokenFileIsAOneLineErrorNamingIt()
    {
        using var temp = new TempFolder();
        string missing = temp.File("none.json");
        var notFound = Assert.Throws<FileNotFoundException>(() => TokenizerJsonTokenizer.Load(missing));
        Assert.Contains(missing, notFound.Message);

        string broken = TokenizerJsonFixtures.Write(temp.Path, "broken.json", "{\"model\": ");
        var error = Assert.ThrowsAny<System.Exception>(() => TokenizerJsonTokenizer.Load(broken));
        Assert.Contains(broken, error.Message);
        Assert.DoesNotContain('\n', error.Message);

        string unknownModel = TokenizerJsonFixtures.Write(temp.Path, "unknown.json", TokenizerJsonFixtures.RobertaBpe.Replace("\"type\": \"BPE\"", "\"type\": \"Nonsense\""));
        var refused = Assert.Throws<InvalidDataException>(() => TokenizerJsonTokenizer.Load(unknownModel));
        Assert.Contains(unknownModel, refused.Message);
    }

    [Fact]
    public void TooSmallALimitIsRefused()
    {
        using var temp = new TempFolder();
        using var tokenizer = TokenizerJsonTokenizer.Load(TokenizerJsonFixtures.Write(temp.Path, "tokenizer.json", TokenizerJsonFixtures.RobertaBpe));
        var error = Assert.Throws<System.ArgumentOutOfRangeException>(() => tokenizer.Encode("Hello", 2));
        Assert.Contains("2 special tokens", error.Message);
    }
}
