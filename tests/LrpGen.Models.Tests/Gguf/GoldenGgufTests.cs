using System.IO;
using LrpGen.Models.Decoders;
using LrpGen.Models.Gguf;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.Decoders;
using LrpGen.Models.Tests.HuggingFace;
using LrpGen.TestData;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>The golden LLaMA and Qwen3-MoE (tests/golden) written to GGUF by our writer and read back: LXT's golden relevance
/// under the 2e-4 rule, and the same explanation as from the folder to 1e-6.</summary>
public class GoldenGgufTests
{
    private readonly ITestOutputHelper _output;

    public GoldenGgufTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("llama", "gradx", LrpMethod.Gradient)]
    [InlineData("llama", "attnlrp", LrpMethod.AttnLrp)]
    [InlineData("llama", "cplrp", LrpMethod.CpLrp)]
    [InlineData("qwen3moe", "gradx", LrpMethod.Gradient)]
    [InlineData("qwen3moe", "attnlrp", LrpMethod.AttnLrp)]
    public void RoundTripMatchesLxtAndTheFolder(string model, string variant, LrpMethod method)
    {
        using var temp = new TempFolder();
        string folder = GoldenData.Folder(model);
        string gguf = temp.File($"golden-{model}.gguf");
        GgufConversion.FromHuggingFace(folder, gguf);
        Assert.True(GgufFile.Open(gguf).Contains("blk.0.attn_q.weight"));

        var golden = SafetensorsFile.Open(Path.Combine(folder, variant + ".safetensors"));
        using var ids = golden.Load("input_ids");
        long target = golden.Load("target").item<long>();
        var options = new LrpOptions { Method = method, Latents = new[] { "layers.*" } };

        using var fromGguf = CausalLm.Load(gguf);
        using var fromFolder = CausalLm.Load(folder);
        using var passGguf = fromGguf.Forward(ids, null, options);
        using var passFolder = fromFolder.Forward(ids, null, options);
        GoldenCausalLmTests.AssertClose(passGguf.Output[0], golden.Load("logits_last"), 1e-5, absolute: true, "logits_last");

        using var weights = torch.zeros_like(passGguf.Output);
        weights[0, target] = torch.tensor(1f);
        var explained = passGguf.Explain(weights);
        var reference = passFolder.Explain(weights);
        var embeds = explained.Inputs[0][0];
        GoldenCausalLmTests.AssertClose(embeds, golden.Load("relevance_embeds"), GoldenCausalLmTests.Tolerance, absolute: false, "LXT relevance_embeds");
        GoldenCausalLmTests.AssertClose(embeds.sum(-1), golden.Load("relevance_tokens"), GoldenCausalLmTests.Tolerance, absolute: false, "LXT relevance_tokens");
        GoldenCausalLmTests.AssertClose(embeds, reference.Inputs[0][0], 1e-6, absolute: false, "folder relevance_embeds");
        for (int i = 0; i < fromGguf.Config.Layers; i++)
            GoldenCausalLmTests.AssertClose(explained.Latents[$"layers.{i}"], reference.Latents[$"layers.{i}"], 1e-6, absolute: false, $"folder layers.{i}");
        _output.WriteLine($"golden {model} via GGUF, {variant}: " + GoldenCausalLmTests.TakeMeasurements());
    }
}
