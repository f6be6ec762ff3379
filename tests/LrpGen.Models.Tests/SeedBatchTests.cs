using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Bert;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests;

/// <summary>The real models (LXT's tiny golden decoders, BERT, ViT, in float64) explain S quantities in one backward:
/// row s of weights [S, ...output] equals the backward of weights[s], 1e-6 of the row's largest value.</summary>
public class SeedBatchTests
{
    private const ScalarType F64 = ScalarType.Float64;

    private static void AssertRowsMatch(LrpPass pass, string what)
    {
        foreach (int count in new[] { 1, 3, 7 })
        {
            torch.manual_seed(2000 + count);
            var weights = torch.randn(pass.Output.shape.Prepend(count).ToArray(), pass.Output.dtype);
            var batched = pass.Explain(weights);
            for (int s = 0; s < count; s++)
            {
                var single = pass.Explain(weights[s]);
                for (int i = 0; i < single.Inputs.Count; i++)
                    AssertClose(batched.Inputs[i][s], single.Inputs[i], $"{what}, S = {count}, row {s}, input {i}");
                foreach (var (point, latent) in single.Latents)
                    AssertClose(batched.Latents[point][s], latent, $"{what}, S = {count}, row {s}, latent {point}");
            }
        }
    }

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<double>();
        double diff = actual.sub(expected).abs().max().item<double>();
        Assert.True(diff <= 1e-6 * Math.Max(scale, 1e-12), $"{what}: max |diff| = {diff:E3}, max |expected| = {scale:E3}");
    }

    [Theory]
    [InlineData("llama", LrpMethod.AttnLrp)]
    [InlineData("llama", LrpMethod.CpLrp)]
    [InlineData("llama", LrpMethod.Gradient)]
    [InlineData("qwen3moe", LrpMethod.AttnLrp)]
    [InlineData("gpt2", LrpMethod.AttnLrp)]
    public void Decoders(string model, LrpMethod method)
    {
        var folder = GoldenData.Folder(model);
        using var lm = CausalLm.Load(folder, F64);
        var ids = SafetensorsFile.Open(Path.Combine(folder, "attnlrp.safetensors")).Load("input_ids");
        using var pass = lm.Forward(ids, null, new LrpOptions { Method = method, Latents = new[] { "layers.*", "layers.0.mlp.down_proj" } });
        AssertRowsMatch(pass, $"{model} [{method}]");
    }

    [Fact]
    public void DecoderBatchCheckpointed()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"), F64);
        var ids = torch.tensor(new long[,] { { 1, 5, 9, 14, 3 }, { 7, 2, 11, 4, 8 } });
        using var pass = lm.Forward(ids, null, new LrpOptions { Checkpointing = true });
        AssertRowsMatch(pass, "llama, batch of 2, checkpointed");
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.Gradient)]
    public void Bert(LrpMethod method)
    {
        var folder = GoldenData.Folder("bert");
        using var classifier = BertClassifier.Load(folder, F64);
        var ids = SafetensorsFile.Open(Path.Combine(folder, "attnlrp.safetensors")).Load("input_ids");
        long batch = ids.shape[0], length = ids.shape[1];
        using var words = classifier.Model.bert.word_embeddings.forward(ids);
        var positions = torch.arange(length).unsqueeze(0).expand(batch, length).contiguous();
        var types = torch.zeros(batch, length, ScalarType.Int64);
        var noPadding = torch.zeros(batch, 1, 1, length, F64);
        using var pass = classifier.Model.LrpForward(words, positions, types, noPadding,
            new LrpOptions { Method = method, Latents = new[] { "bert.layers.*" } });
        AssertRowsMatch(pass, $"bert [{method}]");
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.Gradient)]
    public void Vit(LrpMethod method)
    {
        var folder = GoldenData.Folder("vit");
        using var vit = VitClassifier.Load(folder);
        vit.Model.to(F64);
        var pixels = SafetensorsFile.Open(Path.Combine(folder, "attnlrp.safetensors")).Load("pixels").to(F64);
        using var pass = vit.Model.LrpForward(pixels, new LrpOptions { Method = method, GammaOverrides = new System.Collections.Generic.Dictionary<Type, double> { [typeof(TorchSharp.Modules.Conv2d)] = 0.25, [typeof(TorchSharp.Modules.Linear)] = 0.05 } });
        AssertRowsMatch(pass, $"vit [{method}]");
    }
}
