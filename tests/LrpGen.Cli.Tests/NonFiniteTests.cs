using System.IO;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 11, item 4: NaN and infinity in weights, input or results are reported with exit 1, naming the
/// tensor or output, never printed as "max |R| = 0" with exit 0.</summary>
public class NonFiniteTests
{
    [Theory]
    [InlineData("llama", "model.layers.1.mlp.up_proj.weight", "layers.1.mlp.up_proj.weight")]
    [InlineData("gpt2", "transformer.h.0.attn.c_attn.weight", "c_attn")]
    [InlineData("bert", "bert.embeddings.word_embeddings.weight", "word_embeddings")]
    public void ANonFiniteWeightIsNamed(string model, string tensor, string named)
    {
        using var temp = new TempFolder();
        var folder = BadInputs.ModelWithValue(temp, model, tensor, float.PositiveInfinity);

        var run = CliRun.Of("explain", folder, "--ids", "5,17,3");

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("are not finite", run.Stderr);
        Assert.Contains(named, run.Stderr);
        Assert.Contains("1 infinite of", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void ANonFiniteViTWeightIsNamed()
    {
        using var temp = new TempFolder();
        var folder = BadInputs.ModelWithValue(temp, "vit", "heads.head.weight", float.NaN);

        var run = CliRun.Of("explain-image", folder, "--pixels", Path.Combine(GoldenData.Folder("vit"), "attnlrp.safetensors"));

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("head.weight has 1 NaN of 480 values", run.Stderr);   // the model's parameter name
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void PixelsThatOverflowTheModelGiveANamedNonFiniteResultNotAZeroMap()
    {
        // Finite input (3e38 is a float32), but the patch embedding overflows to infinity and LayerNorm makes NaN.
        using var temp = new TempFolder();
        var pixels = BadInputs.Pixels(temp, 3e38f, 3e38f);

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", pixels);

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Matches("the (logit of class \\d+|relevance map) (is|is not finite)", run.Stderr);
        Assert.DoesNotContain("max |R| 0", run.Stdout);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void NaNPixelsAreNamed()
    {
        using var temp = new TempFolder();
        var pixels = BadInputs.Pixels(temp, 0.1f, float.NaN);

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", pixels);

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains($"--pixels '{pixels}': the tensor 'pixels' is not finite: 1 NaN of 3072 values", run.Stderr);
    }

    [Fact]
    public void NonFiniteValuesAreCountedAndLocated()
    {
        var e = Assert.Throws<CliRuntimeException>(() => FiniteChecks.Values("the token relevance", new[] { 1f, float.NaN, float.NegativeInfinity, float.NaN }));

        Assert.Equal("the token relevance is not finite: 2 NaN and 1 infinite of 4 values, the first at position 1.", e.Message);
        FiniteChecks.Values("fine", new[] { 0f, -1e30f });
    }
}
