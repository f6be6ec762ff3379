using System;
using System.Diagnostics;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>A config that passes its own checks but does not fit the checkpoint fails on the safetensors header,
/// before the model's weights are allocated: the model is first built on the meta device.</summary>
public class ShapeCheckTests
{
    private static bool FromShapeCheck(Exception error) => error.StackTrace?.Contains(nameof(ShapeCheck.BeforeAllocating), StringComparison.Ordinal) == true;

    [Fact]
    public void AnIntermediateSizeOfAMillionFailsBeforeAllocating()
    {
        // Built for real, two layers of three 1,000,000 x 64 float32 matrices would take 1.5 GB.
        using var folder = new TempFolder();
        EditedCheckpoint.Write("llama", folder.Path, EditedCheckpoint.Parse("intermediate_size=1e6"));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        long peakBefore = process.PeakWorkingSet64;

        var error = Assert.Throws<CheckpointException>(() => EditedCheckpoint.Load("llama", folder.Path));

        process.Refresh();
        long grown = process.PeakWorkingSet64 - peakBefore;
        Assert.True(grown < 100L << 20, $"the peak working set grew by {grown >> 20} MB");
        Assert.True(FromShapeCheck(error), "the error must come from the shape check on the meta model: " + error.StackTrace);
        Assert.Contains("Tensor 'model.layers.0.mlp.gate_proj.weight' in ", error.Message);
        Assert.Contains("has shape [160, 64]; the model expects [1000000, 64].", error.Message);
        Assert.Contains(folder.File("model.safetensors"), error.Message);
    }

    [Theory]
    [InlineData("qwen3moe", "moe_intermediate_size=40", "has shape [4, 96, 64]; the model expects [4, 80, 64]")]
    [InlineData("gpt2", "n_inner=100", "the model expects the Conv1D layout [48, 100]")]
    [InlineData("bert", "intermediate_size=200", "the model expects [200, 48]")]
    [InlineData("vit", "mlp_dim=200", "the model expects [200, 48]")]
    [InlineData("llama", "vocab_size=97", "'model.embed_tokens.weight'")]
    public void AConfigThatDoesNotFitTheWeightsFailsOnTheHeader(string family, string edits, string expected)
    {
        var error = EditedCheckpoint.Error(family, EditedCheckpoint.Parse(edits));
        Assert.True(FromShapeCheck(error), $"{family}: the error must come from the shape check: {error.StackTrace}");
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void TensorsTheModelDoesNotTakeAreNamedWithoutApiAdvice()
    {
        using var extra = new TensorSet { ["model.layers.0.mlp.extra.weight"] = torch.zeros(2, 2) };
        var error = EditedCheckpoint.Error("llama", EditedCheckpoint.Parse("attention_bias=false"), extra);
        Assert.True(FromShapeCheck(error), error.StackTrace);
        Assert.Contains("has 1 tensor(s) that no model parameter took: 'model.layers.0.mlp.extra.weight'. The checkpoint does not fit this model (llama).", error.Message);
        Assert.DoesNotContain("EnsureAllUsed", error.Message);
    }
}
