using System;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 11, item 3: the peak-memory estimate (hand-derived values of its formula), the sizes --max-memory
/// takes, and refusals before the model is loaded that say what would fit.</summary>
public class MemoryBudgetTests
{
    /// <summary>The golden LLaMA's shape: 2 blocks, 4 heads, hidden 64, intermediate 160, no weights counted.</summary>
    private static readonly PassShape Llama = new(2, 4, 64, 160, 0);

    [Fact]
    public void EstimateFollowsTheFormula()
    {
        // 4 (L + 2) H T^2 + 40 L T (hidden + intermediate) = 4*4*4*1e6 + 40*2*1000*224
        Assert.Equal(64_000_000L + 17_920_000L, MemoryBudget.EstimatePeakBytes(Llama, 1000));
        Assert.Equal(1_000_000L + 64_000_000L + 17_920_000L, MemoryBudget.EstimatePeakBytes(Llama with { WeightBytes = 1_000_000 }, 1000));
        // Half precision: 2 (3 L + 5) H T^2 = 2*11*4*1e6
        Assert.Equal(88_000_000L + 17_920_000L, MemoryBudget.EstimatePeakBytes(Llama with { HalfPrecision = true }, 1000));
    }

    [Fact]
    public void TwentyThousandTokensOnTheGoldenLlamaNeedMoreThanNineGigabytes()
    {
        // The case: it grew past 9 GB. 4*4*4*4e8 = 25.6e9 for the attention alone.
        Assert.True(MemoryBudget.EstimatePeakBytes(Llama, 20_000) > 25_600_000_000L);
    }

    [Fact]
    public void MaxTokensIsTheLargestCountThatFits()
    {
        long bound = 300L << 20;
        long fit = MemoryBudget.MaxTokens(Llama, bound);

        Assert.True(MemoryBudget.EstimatePeakBytes(Llama, fit) * MemoryBudget.Margin <= bound);
        Assert.True(MemoryBudget.EstimatePeakBytes(Llama, fit + 1) * MemoryBudget.Margin > bound);
    }

    [Theory]
    [InlineData("8G", 8L << 30)]
    [InlineData("8GiB", 8L << 30)]
    [InlineData("8gb", 8L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("1000", 1000L)]
    [InlineData("2T", 2L << 40)]
    public void SizesAreParsed(string text, long bytes) => Assert.Equal(bytes, MemoryBudget.ParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("G")]
    [InlineData("-1G")]
    [InlineData("8X")]
    [InlineData("0")]
    [InlineData("1e30")]
    public void MalformedSizesAreRefused(string text) => Assert.Null(MemoryBudget.ParseSize(text));

    [Fact]
    public void AvailableMemoryIsRead()
    {
        var available = MemoryBudget.Available();

        Assert.NotNull(available);
        Assert.True(available.Value.Bytes > 0);
    }

    [Fact]
    public void APromptOverMaxMemoryIsRefusedBeforeLoadingSayingWhatFits()
    {
        using var temp = new TempFolder();
        var folder = BadInputs.ModelWithConfig(temp, "llama", "max_position_embeddings", 100_000);
        long fit = MemoryBudget.MaxTokens(Llama with { WeightBytes = WeightBytes(folder) }, 300L << 20);

        var refused = CliRun.Of("explain", folder, "--ids", BadInputs.Ids(20_000), "--max-memory", "300M");
        var atLimit = CliRun.Of("explain", folder, "--ids", BadInputs.Ids((int)fit), "--max-memory", "300M");
        var overLimit = CliRun.Of("explain", folder, "--ids", BadInputs.Ids((int)fit + 1), "--max-memory", "300M");

        Assert.True(refused.ExitCode == ExitCodes.RuntimeError, refused.ToString());
        Assert.Contains("of 20000 tokens needs about", refused.Stderr);
        Assert.Contains("more than the 300 MiB that --max-memory allows", refused.Stderr);
        Assert.Contains($"at most {fit} tokens fit", refused.Stderr);
        Assert.DoesNotContain("loading", refused.Stderr);
        Assert.True(atLimit.ExitCode == ExitCodes.Success, atLimit.ToString());
        Assert.True(overLimit.ExitCode == ExitCodes.RuntimeError, overLimit.ToString());
    }

    [Fact]
    public void WithoutMaxMemoryTheBoundIsTheMemoryAvailable()
    {
        using var temp = new TempFolder();
        var folder = BadInputs.ModelWithConfig(temp, "llama", "max_position_embeddings", 1_000_000);

        // 200,000 tokens: 4*4*4*4e10 bytes = 2.56 TB of attention relevance, more than any machine here has.
        var run = CliRun.Of("explain", folder, "--ids", BadInputs.Ids(200_000));

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("available (", run.Stderr);
        Assert.Contains("--max-memory", run.Stderr);
        Assert.DoesNotContain("loading", run.Stderr);
    }

    [Fact]
    public void ExplainImageHasTheSameBound()
    {
        var pixels = System.IO.Path.Combine(GoldenData.Folder("vit"), "attnlrp.safetensors");

        var refused = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", pixels, "--max-memory", "64K");
        var allowed = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", pixels, "--max-memory", "64M");

        Assert.True(refused.ExitCode == ExitCodes.RuntimeError, refused.ToString());
        Assert.Contains("explaining an image of 17 tokens needs about", refused.Stderr);   // 4 x 4 patches + the class token
        Assert.Equal("", refused.Stdout);
        Assert.True(allowed.ExitCode == ExitCodes.Success, allowed.ToString());
    }

    [Fact]
    public void MalformedMaxMemoryIsAUsageError()
    {
        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--ids", "5", "--max-memory", "lots");

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("--max-memory 'lots' is not a size", run.Stderr);
    }

    /// <summary>The weights in float32: the sizes of the tensors in the folder's safetensors header.</summary>
    private static long WeightBytes(string folder)
    {
        var file = LrpGen.Models.HuggingFace.SafetensorsFile.Open(System.IO.Path.Combine(folder, "model.safetensors"));
        long total = 0;
        foreach (var name in file.TensorNames)
        {
            long count = 1;
            foreach (var d in file.Shape(name)) count *= d;
            total += 4 * count;
        }
        return total;
    }
}
