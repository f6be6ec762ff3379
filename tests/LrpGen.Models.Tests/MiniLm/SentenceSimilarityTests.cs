using System;
using System.Linq;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Sentences;
using Xunit;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>Our annotated BERT with the package's weights computes the package's own sentence embeddings (ONNX
/// Runtime), and explains similarities.</summary>
public class SentenceSimilarityTests : IClassFixture<SentenceSimilarityTests.Model>
{
    public sealed class Model : IDisposable
    {
        public readonly SentenceSimilarity Similarity = SentenceSimilarity.Load();
        public void Dispose() => Similarity.Dispose();
    }

    private readonly SentenceSimilarity _model;

    public SentenceSimilarityTests(Model model) => _model = model.Similarity;

    public static readonly string[] Sentences =
    {
        "The cat sits on the mat.",
        "A dog is playing in the garden.",
        "Explanations should be faithful to the model.",
        "Layer-wise relevance propagation explains predictions.",
        "How far is it from Berlin to Munich?",
        "I love this movie!",
        "The stock market fell sharply on Monday.",
        "Ein Hund spielt im Garten.",
        "Café au lait, s'il vous plaît.",
        "naïve résumé coöperation",
        "日本語のテキストです。",
        "Emoji test 🙂🚀 with symbols ©®",
        "?!...",
        "---",
        "a",
        "",
        "   ",
        "Numbers 3.14159 and 2,718 and 42%.",
        "UPPER CASE AND lower case MiXeD",
        "Tabs\tand\nnewlines\r\ninside",
        "The quick brown fox jumps over the lazy dog. " + string.Concat(Enumerable.Repeat("This sentence is repeated to exceed the limit of the tokenizer. ", 60)),
        string.Join(" ", Enumerable.Range(0, 300).Select(i => $"w{i}")),
    };

    public static TheoryData<int> Indices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Sentences.Length; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void EmbeddingEqualsThePackagesOwn(int index)
    {
        string sentence = Sentences[index];
        var ours = _model.Embed(sentence);
        var theirs = MiniLmPackageReference.Embedding(sentence);
        Assert.Equal(theirs.Length, ours.Length);
        double diff = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(diff <= 1e-4, $"sentence {index}: max |ours - package| = {diff:E3}");
    }

    [Fact]
    public void SimilarityExplanationCoversBothSentences()
    {
        var e = _model.Explain("A man is playing a guitar.", "Someone plays an instrument.");
        var a = MiniLmPackageReference.Embedding("A man is playing a guitar.");
        var b = MiniLmPackageReference.Embedding("Someone plays an instrument.");
        double cosine = a.Zip(b, (x, y) => (double)x * y).Sum();
        Assert.Equal(cosine, e.Similarity, 4);
        Assert.Equal(e.A.Ids.Length, e.A.Relevance.Length);
        Assert.Equal(e.B.Pieces.Length, e.B.Relevance.Length);
        Assert.Equal("[CLS]", e.A.Pieces[0]);
        Assert.Contains(e.A.Relevance, r => r != 0);
        // CP-LRP and the gradient give other, finite maps.
        var g = _model.Explain("A man is playing a guitar.", "Someone plays an instrument.", LrpMethod.Gradient);
        Assert.All(g.A.Relevance, r => Assert.False(float.IsNaN(r)));
        Assert.NotEqual(e.A.Relevance, g.A.Relevance);
    }
}
