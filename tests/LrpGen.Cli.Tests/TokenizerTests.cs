using System;
using System.IO;
using System.Linq;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>--text with a folder's tokenizer.json (a tiny WordLevel tokenizer with a BOS post-processor, ids &lt; 96,
/// next to a golden model): the ids it gives, pieces in the JSON, the HTML and the terminal.</summary>
public class TokenizerTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer.json");

    [Fact]
    public void TextIsTokenizedAndPiecesAreReported()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", Fixture));
        var json = temp.File("out.json");
        var html = temp.File("out.html");

        var run = CliRun.Of("explain", folder, "--text", "The cat sat on the mat < &", "--json", json, "--html", html);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        var root = doc.RootElement;
        Assert.Equal(new long[] { 1, 5, 17, 3, 40, 5, 41, 60, 61 }, root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()));
        // WordLevel with no decoder joins tokens with spaces: each piece is the text it adds to the prompt.
        Assert.Equal(new[] { "<s>", "the", " cat", " sat", " on", " the", " mat", " <", " &" },
            root.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(9, root.GetProperty("relevance").GetArrayLength());

        var page = File.ReadAllText(html);
        Assert.Contains(">&lt;s&gt;</span>", page);
        Assert.Contains("> &lt;</span>", page);
        Assert.Contains("> &amp;</span>", page);
        foreach (var word in new[] { "the", " cat", " sat", " on", " mat" })
            Assert.Contains($">{word}</span>", page);
        Assert.DoesNotContain("<s>", page);

        Assert.Contains("cat", run.Stdout);
        Assert.Contains("\u001b[", run.Stdout);
    }

    [Fact]
    public void IdsInAFolderWithATokenizerAreShownAsText()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("qwen3moe", ("tokenizer.json", Fixture));
        var json = temp.File("out.json");

        var run = CliRun.Of("explain", folder, "--ids", "1,5,17,95", "--target", "41", "--json", json);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        Assert.Equal(new[] { "<s>", "the", " cat", " dog" }, doc.RootElement.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(41, doc.RootElement.GetProperty("target").GetInt64());
        Assert.Contains("target: 41 \"mat\"", run.Stdout);
    }

    [Fact]
    public void PiecesKeepTheSpacesThatALoneTokenDecodeStrips()
    {
        // SentencePiece-style (LLaMA 2): "▁cat" decodes alone to "cat", but adds " cat" to the prompt.
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", Path.Combine(AppContext.BaseDirectory, "Fixtures", "metaspace-tokenizer.json")));
        var json = temp.File("out.json");

        var run = CliRun.Of("explain", folder, "--text", "The cat sat on the mat", "--target", "17", "--json", json);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        Assert.Equal(new long[] { 1, 4, 17, 3, 40, 5, 41 }, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { "<s>", "The", " cat", " sat", " on", " the", " mat" },
            doc.RootElement.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("target: 17 \"cat\"", run.Stdout);
    }

    [Fact]
    public void TextWithoutTokenizerIsAnArgumentError()
    {
        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--text", "the cat");

        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("tokenizer.json", run.Stderr);
        Assert.Contains("--ids", run.Stderr);
    }

    [Fact]
    public void BrokenTokenizerFailsTextButOnlyWarnsForIds()
    {
        using var temp = new TempFolder();
        var broken = temp.File("broken.json");
        File.WriteAllText(broken, "{ \"model\": { \"type\": \"NoSuchModel\" } }");
        var folder = temp.ModelFolder("llama", ("tokenizer.json", broken));

        var text = CliRun.Of("explain", folder, "--text", "the cat");
        var ids = CliRun.Of("explain", folder, "--ids", "5,17");

        Assert.Equal(ExitCodes.RuntimeError, text.ExitCode);
        Assert.Contains("tokenizer.json", text.Stderr);
        Assert.DoesNotContain("   at ", text.Stderr);
        Assert.True(ids.ExitCode == 0, ids.ToString());
        Assert.Contains("warning", ids.Stderr);
    }
}
