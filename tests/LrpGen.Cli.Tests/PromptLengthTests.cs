using System;
using System.Linq;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 11, item 2: a prompt longer than the model's positions is a clear error before any work, or is
/// truncated on request with a notice; similarity says when it cuts a sentence at 512 tokens.</summary>
public class PromptLengthTests
{
    [Theory]
    [InlineData("gpt2", 64, "n_positions")]
    [InlineData("llama", 128, "max_position_embeddings")]
    [InlineData("bert", 64, "max_position_embeddings")]
    public void APromptLongerThanThePositionsIsAUsageErrorBeforeLoading(string model, int positions, string key)
    {
        var run = CliRun.Of("explain", GoldenData.Folder(model), "--ids", BadInputs.Ids(positions + 6));

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains($"the prompt has {positions + 6} tokens, more than the model's {positions} positions ({key}", run.Stderr);
        Assert.Contains("--truncate", run.Stderr);
        Assert.DoesNotContain("index out of range", run.Stderr);
        Assert.DoesNotContain("loading", run.Stderr);
    }

    [Fact]
    public void APromptOfExactlyThePositionsRuns()
    {
        var run = CliRun.Of("explain", GoldenData.Folder("gpt2"), "--ids", BadInputs.Ids(64));

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
    }

    [Theory]
    [InlineData("left")]
    [InlineData("right")]
    public void TruncateKeepsTheLastOrFirstTokensWithANotice(string side)
    {
        using var temp = new TempFolder();
        var ids = BadInputs.Ids(70).Split(',');
        var kept = side == "left" ? ids[6..] : ids[..64];
        string truncated = temp.File("truncated.json"), direct = temp.File("direct.json");

        var run = CliRun.Of("explain", GoldenData.Folder("gpt2"), "--ids", string.Join(",", ids), "--truncate", side, "--json", truncated);
        var reference = CliRun.Of("explain", GoldenData.Folder("gpt2"), "--ids", string.Join(",", kept), "--json", direct);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Contains($"dropped the {(side == "left" ? "first" : "last")} 6 (--truncate {side})", run.Stderr);
        using var doc = TempFolder.ReadJson(truncated);
        using var expected = TempFolder.ReadJson(direct);
        Assert.Equal(kept, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt64().ToString()).ToArray());
        Assert.Equal(expected.RootElement.GetProperty("relevance").ToString(), doc.RootElement.GetProperty("relevance").ToString());
    }

    [Fact]
    public void TruncateNameIsChecked()
    {
        var run = CliRun.Of("explain", GoldenData.Folder("gpt2"), "--ids", "5", "--truncate", "middle");

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("--truncate 'middle'", run.Stderr);
    }

    [Fact]
    public void SimilaritySaysWhenItCutsASentenceAt512Tokens()
    {
        var longSentence = string.Join(" ", Enumerable.Repeat("music", 600));

        var run = CliRun.Of("similarity", longSentence, "A man plays a guitar.");

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.Contains("note: sentence A is longer than all-MiniLM-L6-v2's 512 tokens", run.Stderr);
        Assert.DoesNotContain("sentence B is longer", run.Stderr);
    }
}
