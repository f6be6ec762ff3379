using System;
using System.Linq;
using LrpGen.Models.Sentences;
using LrpGen.Models.Tests.MiniLm;
using Xunit;

namespace LrpGen.Models.Tests.Sentences;

/// <summary>The two built-in models through the public API (<see cref="SentenceSimilarity.Load(string, SentenceModelOptions?)"/>
/// by name) equal their packages' own ONNX Runtime embeddings, one sentence at a time and batched with padding.</summary>
public class BuiltInModelTests : IClassFixture<BuiltInModelTests.Models>
{
    public sealed class Models : IDisposable
    {
        public readonly SentenceSimilarity MiniLm = SentenceSimilarity.Load("all-MiniLM-L6-v2");
        public readonly SentenceSimilarity Arctic = SentenceSimilarity.Load("arctic-xs");

        public void Dispose()
        {
            MiniLm.Dispose();
            Arctic.Dispose();
        }
    }

    private readonly Models _models;

    public BuiltInModelTests(Models models) => _models = models;

    private static double MaxDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
    }

    [Fact]
    public void SettingsAreTheModelsOwn()
    {
        Assert.Equal((PoolingMode.Mean, true, 512, "built-in"), (_models.MiniLm.Pooling, _models.MiniLm.Info.Normalize, _models.MiniLm.MaxTokens, _models.MiniLm.Info.PoolingFrom));
        Assert.Equal((PoolingMode.Cls, true, 512), (_models.Arctic.Pooling, _models.Arctic.Info.Normalize, _models.Arctic.MaxTokens));
        Assert.Equal("arctic-xs", _models.Arctic.Name);
    }

    [Fact]
    public void ArcticXsEqualsThePackagesOwnEmbeddings()
    {
        Assert.Equal(24, SentenceCorpus.All.Length);
        foreach (var (sentence, i) in SentenceCorpus.All.Select((s, i) => (s, i)))
        {
            double diff = MaxDiff(_models.Arctic.Embed(sentence), ArcticXsPackageReference.Embedding(sentence));
            Assert.True(diff <= 1e-4, $"sentence {i}: max |ours - package| = {diff:E3}");
        }
    }

    [Fact]
    public void MiniLmEqualsThePackagesOwnEmbeddingsBatched()
    {
        var batched = _models.MiniLm.Embed(SentenceCorpus.All);
        for (int i = 0; i < SentenceCorpus.All.Length; i++)
        {
            double diff = MaxDiff(batched[i], MiniLmPackageReference.Embedding(SentenceCorpus.All[i]));
            Assert.True(diff <= 1e-4, $"sentence {i}: max |ours batched - package| = {diff:E3}");
        }
    }

    [Fact]
    public void EachBatchedRowEqualsTheSentenceAlone()
    {
        // Lengths from 2 to 512 tokens in one padded batch; CLS pooling reads the first row element only, mean all.
        foreach (var model in new[] { _models.MiniLm, _models.Arctic })
        {
            var batched = model.Embed(SentenceCorpus.All);
            for (int i = 0; i < SentenceCorpus.All.Length; i++)
            {
                double diff = MaxDiff(batched[i], model.Embed(SentenceCorpus.All[i]));
                Assert.True(diff <= 1e-5, $"{model.Name} sentence {i}: batched vs alone {diff:E3}");
            }
        }
    }

    [Fact]
    public void LongInputIsCutAtTheLimitAndSaysSo()
    {
        string longest = SentenceCorpus.All.OrderByDescending(s => s.Length).First();
        var tokens = _models.Arctic.Encode(longest);
        Assert.True(tokens.Truncated);
        Assert.Equal(512, tokens.Length);
        Assert.False(_models.Arctic.Encode(SentenceCorpus.ReadmePair[0]).Truncated);
    }

    [Fact]
    public void ArcticExplanationIsTheCosineOfThePackagesEmbeddings()
    {
        var (a, b) = (SentenceCorpus.ReadmePair[0], SentenceCorpus.ReadmePair[1]);
        var e = _models.Arctic.Explain(a, b);
        double cosine = ArcticXsPackageReference.Embedding(a).Zip(ArcticXsPackageReference.Embedding(b), (x, y) => (double)x * y).Sum();
        Assert.True(Math.Abs(cosine - e.Similarity) <= 1e-4, $"{e.Similarity} vs {cosine}");
        Assert.Equal(e.A.Ids.Length, e.A.Relevance.Length);
        Assert.Contains(e.B.Relevance, r => r != 0);
    }

    [Fact]
    public void RankingOrdersByCosineAndExplainsTheTop()
    {
        string query = "Where can I buy fresh bread?";
        string[] candidates = { "The bakery on the corner sells bread every morning.", "Stock prices fell on Monday.", "Fresh loaves are sold at the market.", "I like cats." };
        var ranking = _models.MiniLm.Rank(query, candidates, top: 2);
        var expected = candidates.Select((c, i) => (i, cos: MiniLmPackageReference.Embedding(query).Zip(MiniLmPackageReference.Embedding(c), (x, y) => (double)x * y).Sum()))
            .OrderByDescending(t => t.cos).ToArray();
        Assert.Equal(expected.Select(t => t.i), ranking.Candidates.Select(c => c.Index));
        for (int i = 0; i < candidates.Length; i++)
            Assert.True(Math.Abs(expected[i].cos - ranking.Candidates[i].Score) <= 1e-4);
        Assert.Equal(2, ranking.Top.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(ranking.Candidates[i].Text, ranking.Top[i].B.Sentence);
            Assert.True(Math.Abs(ranking.Top[i].Similarity - ranking.Candidates[i].Score) <= 1e-4);
            Assert.Equal(query, ranking.Top[i].A.Sentence);
        }
    }
}
