using System;
using System.Collections.Generic;
using System.IO;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders;

/// <summary>LXT's numbers for the tiny LLaMA, Qwen3-MoE and GPT-2 (tests/golden): logits within 1e-5, relevance at the
/// embeddings, per token, at every block output and at block 0's MLP neurons within 2e-4 x max|expected|.</summary>
public class GoldenCausalLmTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public GoldenCausalLmTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    /// <summary>The measured agreement of the last comparisons, printed by each test (dotnet test -v n shows it).</summary>
    [ThreadStatic] private static System.Text.StringBuilder? _measured;

    internal static string TakeMeasurements()
    {
        var text = _measured?.ToString() ?? "";
        _measured = null;
        return text;
    }

    public const double Tolerance = 2e-4;

    public static TheoryData<string, string, LrpMethod> Cases() => new()
    {
        { "llama", "gradx", LrpMethod.Gradient },
        { "llama", "attnlrp", LrpMethod.AttnLrp },
        { "llama", "cplrp", LrpMethod.CpLrp },
        { "qwen3moe", "gradx", LrpMethod.Gradient },
        { "qwen3moe", "attnlrp", LrpMethod.AttnLrp },
        { "gpt2", "gradx", LrpMethod.Gradient },
        { "gpt2", "attnlrp", LrpMethod.AttnLrp },
        { "gpt2", "cplrp", LrpMethod.CpLrp },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesLxt(string model, string variant, LrpMethod method)
    {
        var folder = GoldenData.Folder(model);
        var golden = SafetensorsFile.Open(Path.Combine(folder, variant + ".safetensors"));
        using var lm = CausalLm.Load(folder);
        var ids = golden.Load("input_ids");
        long target = golden.Load("target").item<long>();

        var options = new LrpOptions { Method = method, Latents = new[] { "layers.*", "layers.0.mlp.down_proj" } };
        using var pass = lm.Forward(ids, null, options);
        AssertClose(pass.Output[0], golden.Load("logits_last"), 1e-5, absolute: true, "logits_last");
        Assert.Equal(target, pass.Output[0].argmax().item<long>());

        var weights = torch.zeros_like(pass.Output);
        weights[0, target] = torch.tensor(1f);
        var explanation = pass.Explain(weights);
        var embeds = explanation.Inputs[0][0];
        AssertClose(embeds, golden.Load("relevance_embeds"), Tolerance, absolute: false, "relevance_embeds");
        AssertClose(embeds.sum(-1), golden.Load("relevance_tokens"), Tolerance, absolute: false, "relevance_tokens");
        // Input x gradient through the final RMSNorm cancels to ~0 (the norm is scale-invariant), leaving float32
        // rounding: latents are compared on the scale of the explained logit when theirs is smaller than that.
        double logit = Math.Abs(pass.Output[0, target].item<float>());
        for (int i = 0; i < lm.Config.Layers; i++)
            AssertClose(explanation.Latents[$"layers.{i}"][0].sum(-1), golden.Load($"latent_layer{i}_tokens"), Tolerance, absolute: false, $"latent_layer{i}_tokens",
                floor: 1e-3 * logit);
        if (golden.Contains("latent_layer0_mlp_neurons"))
            AssertClose(explanation.Latents["layers.0.mlp.down_proj"][0].sum(new long[] { 0 }), golden.Load("latent_layer0_mlp_neurons"), Tolerance, absolute: false, "latent_layer0_mlp_neurons");
        _output.WriteLine($"{model} {variant}: " + TakeMeasurements());
    }

    [Fact]
    public void CpLrpOnLlamaConservesTheLogit()
    {
        // No biases, every rule conservative: the token relevance sums to the explained logit.
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var ids = SafetensorsFile.Open(Path.Combine(GoldenData.Folder("llama"), "cplrp.safetensors")).Load("input_ids");
        using var pass = lm.Forward(ids, null, new LrpOptions { Method = LrpMethod.CpLrp });
        long target = pass.Output[0].argmax().item<long>();
        var weights = torch.zeros_like(pass.Output);
        weights[0, target] = torch.tensor(1f);
        double total = pass.Backward(weights)[0].sum().item<float>();
        double logit = pass.Output[0, target].item<float>();
        Assert.True(Math.Abs(total - logit) <= 1e-4 * Math.Max(1, Math.Abs(logit)), $"sum {total} vs logit {logit}");
    }

    internal static void AssertClose(Tensor actual, Tensor expected, double tolerance, bool absolute, string what, double floor = 0)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var a = actual.to(ScalarType.Float64);
        using var e = expected.to(ScalarType.Float64);
        double diff = a.sub(e).abs().max().item<double>();
        double scale = absolute ? 1 : Math.Max(e.abs().max().item<double>(), floor);
        (_measured ??= new System.Text.StringBuilder()).Append($"{what} {(absolute ? "|diff|" : "rel")} {diff / scale:E1}; ");
        Assert.True(diff <= tolerance * scale, $"{what}: max |diff| {diff:E3} > {tolerance:E1} x {scale:E3}");
    }
}
