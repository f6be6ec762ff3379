using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>lrpgen explain-image --top-k: K classes in one pass, one heatmap per class, each map equal to the --target run
/// of its class; K outside 1..classes and --target with --top-k are usage errors.</summary>
public class ExplainImageTopKTests
{
    private static double[] Map(JsonElement entry) =>
        entry.GetProperty("relevance_map").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();

    [Fact]
    public void EachClassMatchesItsSingleClassRun()
    {
        var folder = GoldenData.Folder("vit");
        var pixels = Path.Combine(folder, "attnlrp.safetensors");
        using var temp = new TempFolder();
        var json = temp.File("top.json");
        var png = temp.File("heat.png");
        var run = CliRun.Of("explain-image", folder, "--pixels", pixels, "--top-k", "3", "--json", json, "--out", png);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        var entries = doc.RootElement.GetProperty("top_k").EnumerateArray().ToArray();
        Assert.Equal(3, entries.Length);
        Assert.Equal(new[] { 1, 2, 3 }, entries.Select(e => e.GetProperty("rank").GetInt32()));
        var probabilities = entries.Select(e => e.GetProperty("probability").GetDouble()).ToArray();
        Assert.True(probabilities[0] >= probabilities[1] && probabilities[1] >= probabilities[2], string.Join(", ", probabilities));
        var classes = entries.Select(e => e.GetProperty("target").GetInt64()).ToArray();
        Assert.Equal(3, classes.Distinct().Count());
        for (int r = 0; r < 3; r++)
        {
            Assert.Contains($"#{r + 1} class {classes[r]}", run.Stdout);
            // One heatmap per class, named by rank and class.
            Assert.True(new FileInfo(temp.File($"heat.top{r + 1}-class{classes[r]}.png")).Length > 0, $"heatmap of class {classes[r]}");
            var single = temp.File($"single{r}.json");
            var one = CliRun.Of("explain-image", folder, "--pixels", pixels, "--target", classes[r].ToString(System.Globalization.CultureInfo.InvariantCulture), "--json", single);
            Assert.True(one.ExitCode == 0, one.ToString());
            using var singleDoc = TempFolder.ReadJson(single);
            Assert.Equal(singleDoc.RootElement.GetProperty("logit").GetDouble(), entries[r].GetProperty("logit").GetDouble(), 5);
            var expected = Map(singleDoc.RootElement);
            var actual = Map(entries[r]);
            double scale = expected.Max(Math.Abs);
            double diff = actual.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff <= 1e-5 * scale, $"class {classes[r]}: max |diff| {diff:E3} > 1e-5 x {scale:E3}");
        }
        Assert.False(File.Exists(png));   // with --top-k, only the per-class files
    }

    [Theory]
    [InlineData("'0' is not an integer >= 1", "--top-k", "0")]
    [InlineData("--top-k 11 is more than the model's 10 classes; give 1 to 10", "--top-k", "11")]
    [InlineData("--target 1 and --top-k 2: give one", "--top-k", "2", "--target", "1")]
    public void BadTopKIsAUsageError(string message, params string[] extra)
    {
        var folder = GoldenData.Folder("vit");
        var run = CliRun.Of(new[] { "explain-image", folder, "--pixels", Path.Combine(folder, "attnlrp.safetensors") }.Concat(extra).ToArray());
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
