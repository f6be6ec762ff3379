using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>The terminal heatmap and the HTML page for a prompt given as ids.</summary>
public class OutputTests
{
    private const string Ids = "5,17,3,40,41,7";

    [Fact]
    public void TerminalShowsAColouredHeatmapTheTargetAndItsLogit()
    {
        using var temp = new TempFolder();
        var json = temp.File("out.json");
        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--ids", Ids, "--json", json);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        long target = doc.RootElement.GetProperty("target").GetInt64();
        float logit = doc.RootElement.GetProperty("logit").GetSingle();
        var relevance = doc.RootElement.GetProperty("relevance").EnumerateArray().Select(e => e.GetSingle()).ToArray();

        Assert.Matches(new Regex("\u001b\\[48;2;255;\\d+;\\d+m"), run.Stdout);                      // a red (positive) cell
        Assert.Contains("\u001b[0m", run.Stdout);
        Assert.Contains($"target: {target}", run.Stdout);
        Assert.Contains($"logit: {logit.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", run.Stdout);
        // The largest |R| is fully saturated, and each token's value is printed.
        int top = Array.IndexOf(relevance, relevance.MaxBy(Math.Abs));
        Assert.Contains(relevance[top] >= 0 ? "\u001b[48;2;255;0;0m" : "\u001b[48;2;0;0;255m", run.Stdout);
        foreach (var r in relevance) Assert.Contains(HeatmapPalette.Format(r), run.Stdout);
        // Progress went to stderr, not into the results.
        Assert.Contains("loaded", run.Stderr);
        Assert.DoesNotContain("loaded", run.Stdout);
    }

    [Fact]
    public void HtmlIsOneSelfContainedPageWithEveryTokenAndItsValue()
    {
        using var temp = new TempFolder();
        var html = temp.File("out.html");
        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--ids", Ids, "--method", "cplrp", "--html", html);

        Assert.True(run.ExitCode == 0, run.ToString());
        var page = File.ReadAllText(html);
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.Contains("<style>", page);
        foreach (var external in new[] { "http:", "https:", "<link", "<script", "src=", "url(", "@import" })
            Assert.DoesNotContain(external, page, StringComparison.OrdinalIgnoreCase);
        var spans = Regex.Matches(page, "<div class=\"prompt\">(.*?)</div>", RegexOptions.Singleline).Single().Groups[1].Value;
        var tokens = Regex.Matches(spans, "<span class=\"tok\" style=\"background:rgb\\(\\d+,\\d+,\\d+\\);[^\"]*\" title=\"position (\\d+), id (\\d+), relevance ([^\"]+)\">([^<]*)</span>");
        Assert.Equal(Ids.Split(','), tokens.Select(m => m.Groups[2].Value));
        Assert.Equal(Ids.Split(','), tokens.Select(m => m.Groups[4].Value));
        Assert.Contains("cplrp", page);
        Assert.Matches(new Regex("target: <b>\\d+</b> · logit: <b>-?\\d"), page);
    }

    [Fact]
    public void HtmlEscapesTokenText()
    {
        var result = new ExplainResult
        {
            ModelType = "llama",
            Method = "attnlrp",
            Target = 2,
            TargetPiece = "\"q\"",
            Logit = 1.5f,
            Tokens = new long[] { 0, 1, 2 },
            Pieces = new[] { "<script>alert(1)</script>", "a & b", "it's" },
            Relevance = new[] { 1f, -0.5f, 0f },
            Latent = Array.Empty<System.Collections.Generic.KeyValuePair<string, float[]>>(),
        };

        var page = HtmlReport.Render(result);

        Assert.DoesNotContain("<script", page);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page);
        Assert.Contains("a &amp; b", page);
        Assert.Contains("it&#39;s", page);
        Assert.Contains("&quot;q&quot;", page);
    }

    [Fact]
    public void TerminalMakesControlCharactersVisible()
    {
        Assert.Equal("a\\nb\\tc\\u001b", TerminalHeatmap.Visible("a\nb\tc\u001b"));
        Assert.Equal("∅", TerminalHeatmap.Visible(""));
    }

    [Fact]
    public void PaletteIsRedForPositiveBlueForNegativeScaledByMaxAbs()
    {
        Assert.Equal(new Rgb(255, 0, 0), HeatmapPalette.Background(2f, 2f));
        Assert.Equal(new Rgb(0, 0, 255), HeatmapPalette.Background(-2f, 2f));
        Assert.Equal(new Rgb(255, 255, 255), HeatmapPalette.Background(0f, 2f));
        Assert.Equal(new Rgb(255, 128, 128), HeatmapPalette.Background(1f, 2f));
        Assert.Equal(new Rgb(128, 128, 255), HeatmapPalette.Background(-1f, 2f));
        Assert.Equal(new Rgb(255, 255, 255), HeatmapPalette.Background(0f, 0f));
    }
}
