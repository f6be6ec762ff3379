using System.Linq;
using LrpGen.Models.Gguf;
using LrpGen.Models.Tests.HuggingFace;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>The GGUF's own tokenizer through llama.cpp: ids derived by hand from the test vocabulary (BOS, whole words
/// where the vocabulary has them, letters otherwise, UTF-8 byte fallback for what it lacks) and pieces that
/// concatenate back to the text.</summary>
public class GgufTokenizerTests
{
    [Fact]
    public void TokenizesWithTheFilesVocabulary()
    {
        using var temp = new TempFolder();
        TinyLlama.Write(temp.File("hf"), seed: 1);
        string gguf = temp.File("tiny.gguf");
        GgufConversion.FromHuggingFace(temp.File("hf"), gguf, ScalarType.Float16, TestVocabulary.Metadata(TinyLlama.Vocab));
        using var tokenizer = GgufTokenizer.Load(gguf);
        int Id(string piece) => TestVocabulary.IdOf(piece, TinyLlama.Vocab);

        Assert.Equal(new long[] { TestVocabulary.Bos, Id("▁the"), Id("▁cat"), Id("▁sat") }, tokenizer.Encode("the cat sat"));
        Assert.Equal(new long[] { TestVocabulary.Bos, Id("▁capital"), Id("▁of"), Id("▁France"), Id("▁is") }, tokenizer.Encode("capital of France is"));
        Assert.Equal(new long[] { TestVocabulary.Bos, Id("▁"), Id("x"), Id("y"), Id("z") }, tokenizer.Encode("xyz"));
        // "é" is not in the vocabulary: its two UTF-8 bytes as byte tokens.
        var ids = tokenizer.Encode("the é");
        Assert.Equal(new long[] { TestVocabulary.Bos, Id("▁the"), Id("▁"), TestVocabulary.FirstByte + 0xC3, TestVocabulary.FirstByte + 0xA9 }, ids);
        var pieces = tokenizer.Pieces(ids);
        Assert.Equal("the é", string.Concat(pieces.Skip(1)).TrimStart());
        Assert.Equal("", pieces[3]);           // half a character: shown with the byte that completes it
        Assert.Equal("é", pieces[4]);
        Assert.Equal(" cat", tokenizer.Piece(Id("▁cat")));
    }
}
