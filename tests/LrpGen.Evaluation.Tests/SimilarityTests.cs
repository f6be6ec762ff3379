using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Sentences;
using TorchSharp;
using Xunit;

namespace LrpGen.Evaluation.Tests;

public class SimilarityTests
{
    [Theory]
    [InlineData("all-MiniLM-L6-v2")]
    [InlineData("arctic-xs")]
    public void SimilarityInputAgreesWithSentenceSimilarity(string name)
    {
        using var model = SentenceSimilarity.Load(name);
        const string a = "he quit smoking cold turkey", b = "she quit her job cold turkey";
        using var input = new SimilarityInput(model, a, b);
        var explanation = model.Explain(a, b, LrpMethod.AttnLrp);
        using (torch.no_grad())
        using (var x = input.Embeddings.unsqueeze(0))
        using (var s = input.Score(x))
            Assert.Equal(explanation.Similarity, s.item<float>(), 4);
        var attn = input.LrpRelevance(LrpMethod.AttnLrp);
        for (int i = 0; i < attn.Length; i++) Assert.Equal(explanation.A.Relevance[i], attn[i], 4);
        // The generated input x gradient equals autograd's through the plain forward.
        var gradx = input.LrpRelevance(LrpMethod.Gradient);
        var autograd = Attribution.SmoothGrad(input, samples: 1, noise: 0);
        for (int i = 0; i < gradx.Length; i++) Assert.Equal(autograd[i], gradx[i], 3);
        // Six layers of probabilities, rows summing to 1; rollout read out as a mean sums to 1.
        var layers = input.AttentionProbabilities();
        Assert.Equal(6, layers.Count);
        foreach (var p in layers)
        {
            using var sums = p.sum(new long[] { -1 });
            Assert.True(sums.sub(1).abs().max().item<float>() < 1e-5);
            p.Dispose();
        }
        Assert.Equal(1.0, Attribution.Explain(input, AttributionMethod.AttentionRollout).Sum(v => (double)v), 4);
    }

    [Fact]
    public void IntegratedGradientsIsCompleteOnMiniLm()
    {
        using var model = SentenceSimilarity.Load();
        using var input = new SimilarityInput(model, "the children ran to the store", "he quit smoking cold turkey");
        var ig = Attribution.IntegratedGradients(input, steps: 32, batch: 16);
        double fx, f0;
        using (torch.no_grad())
        {
            using var x = input.Embeddings.unsqueeze(0);
            using var zero = torch.zeros_like(x);
            using var sx = input.Score(x);
            using var s0 = input.Score(zero);
            fx = sx.item<float>();
            f0 = s0.item<float>();
        }
        double sum = ig.Sum(v => (double)v);
        Assert.True(Math.Abs(sum - (fx - f0)) <= 0.02 * Math.Abs(fx - f0) + 1e-3, $"sum IG {sum} vs f(x) - f(0) = {fx - f0} (f(x) = {fx}, f(0) = {f0})");
    }

    [Fact]
    public void WordNetLinesGivePairsOfExampleSentences()
    {
        const string line = "00102345 04 n 01 cold_turkey 0 001 @ 00100000 n 0000 | complete and abrupt withdrawal; \"he quit smoking cold turkey\"; \"she quit her job cold turkey\"  ";
        var pair = WordNetPairs.ParseLine(line, "data.noun");
        Assert.NotNull(pair);
        Assert.Equal("he quit smoking cold turkey", pair!.A);
        Assert.Equal("she quit her job cold turkey", pair.B);
        Assert.Equal("data.noun 00102345 (cold turkey)", pair.Source);
        // The licence header, one example only, too short examples.
        Assert.Null(WordNetPairs.ParseLine("  1 This software and database is being provided", "data.noun"));
        Assert.Null(WordNetPairs.ParseLine("00102345 04 n 01 x 0 000 | a gloss; \"only one example here\"", "data.noun"));
        Assert.Null(WordNetPairs.ParseLine("00102345 04 n 01 x 0 000 | a gloss; \"too short\"; \"also short\"", "data.noun"));
    }

    [Fact]
    public void WordNetSelectionSpreadsOverTheList()
    {
        var all = Enumerable.Range(0, 10).Select(i => new SentencePair("a" + i, "b" + i, "s" + i)).ToArray();
        Assert.Equal(new[] { "a0", "a3", "a6" }, WordNetPairs.Select(all, 3).Select(p => p.A));
        Assert.Throws<ArgumentException>(() => WordNetPairs.Select(all, 11));
        using var empty = new TempFolder();
        var e = Assert.Throws<FileNotFoundException>(() => WordNetPairs.ReadAll(empty.Path));
        Assert.Contains("wordnet-base", e.Message);
    }

    [Fact]
    public void InstalledWordNetGivesEnoughPairs()
    {
        // Debian's wordnet-base; where it is not installed the evaluation says how to install it (tested in CliTests).
        if (!WordNetPairs.IsPresent(WordNetPairs.DefaultFolder)) return;
        var all = WordNetPairs.ReadAll(WordNetPairs.DefaultFolder);
        Assert.True(all.Count >= 1000, $"{all.Count} pairs");
        Assert.All(WordNetPairs.Select(all, 250), p => Assert.NotEqual(p.A, p.B));
    }
}
