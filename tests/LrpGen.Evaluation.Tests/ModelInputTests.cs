using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Evaluation.Tests;

public class ModelInputTests
{
    private static readonly long[] Prompt = { 1, 7, 3, 12, 5, 9, 2 };

    [Fact]
    public void IntegratedGradientsIsComplete()
    {
        // RMSNorm with a large epsilon keeps f smooth near the zero baseline. With the usual 1e-6, f(alpha x) jumps from
        // f(0) = 0 to about f(x) within alpha < 0.01 (RMSNorm is scale invariant), which a 64-step Riemann sum cannot
        // resolve (docs/evaluation.md reports that gap on the recall model).
        using var folder = new TempFolder();
        using var model = TinyLlama.Create(folder.Path, rmsNormEps: 1.0);
        using var input = new CausalLmInput(model, Prompt, target: TopToken(model));
        var ig = Attribution.IntegratedGradients(input, steps: 64, batch: 16);
        double fx, f0;
        using (torch.no_grad())
        {
            using var x = input.Embeddings.unsqueeze(0);
            using var zero = torch.zeros_like(x);
            using var sx = input.Score(x);
            using var s0 = input.Score(zero);
            fx = sx.item<float>();
            f0 = s0.item<float>();
        }
        double sum = ig.Sum(v => (double)v);
        // Completeness: sum IG = f(x) - f(0), up to the midpoint rule's error.
        Assert.True(Math.Abs(fx - f0) > 0.1, $"the test needs a non-trivial difference: f(x) = {fx}, f(0) = {f0}");
        Assert.True(Math.Abs(sum - (fx - f0)) <= 0.01 * Math.Abs(fx - f0) + 1e-4, $"sum IG {sum} vs f(x) - f(0) = {fx - f0}");
    }

    private static long TopToken(CausalLm model)
    {
        using var noGrad = torch.no_grad();
        using var ids = torch.tensor(Prompt).unsqueeze(0);
        using var embeds = model.Embed(ids);
        using var logits = model.Logits(embeds);
        return logits.argmax(1).item<long>();
    }

    [Fact]
    public void IntegratedGradientsAndSmoothGradOfALinearModelAreInputTimesWeight()
    {
        var x = new float[,] { { 1, 2 }, { -1, 0.5f }, { 3, 1 } };
        var w = new float[,] { { 0.5f, 1 }, { 2, -1 }, { 1, 1 } };
        using var input = new LinearInput(x, w);
        var expected = new[] { 2.5f, -2.5f, 4f };
        Assert.Equal(expected, Attribution.IntegratedGradients(input, steps: 3).Select(v => MathF.Round(v, 5)));
        // The gradient of a linear model does not depend on the noise.
        Assert.Equal(expected, Attribution.SmoothGrad(input, samples: 5, noise: 0.5).Select(v => MathF.Round(v, 5)));
    }

    [Fact]
    public void CausalLmInputAgreesWithTheModel()
    {
        using var folder = new TempFolder();
        using var model = TinyLlama.Create(folder.Path);
        using var input = new CausalLmInput(model, Prompt, target: 4);
        // The generated input x gradient equals autograd's input x gradient of Score.
        var gradx = input.LrpRelevance(LrpMethod.Gradient);
        var autograd = Attribution.SmoothGrad(input, samples: 1, noise: 0);
        for (int i = 0; i < gradx.Length; i++) Assert.Equal(autograd[i], gradx[i], 4);
        // AttnLRP equals CausalLm.Explain on the same prompt and target.
        using var explanation = model.Explain(new[] { Prompt }, new ExplainRequest { Targets = new long[] { 4 } });
        var expected = explanation.TokenRelevance[0].data<float>().ToArray();
        var attn = input.LrpRelevance(LrpMethod.AttnLrp);
        for (int i = 0; i < attn.Length; i++) Assert.Equal(expected[i], attn[i], 4);
        // The score is the target logit.
        using (torch.no_grad())
        using (var x = input.Embeddings.unsqueeze(0))
        using (var s = input.Score(x))
            Assert.Equal(explanation.TargetLogits[0], s.item<float>(), 4);
    }

    [Fact]
    public void AttentionProbabilitiesAreCausalRowsSummingToOne()
    {
        using var folder = new TempFolder();
        using var model = TinyLlama.Create(folder.Path);
        using var input = new CausalLmInput(model, Prompt, target: 4);
        var layers = input.AttentionProbabilities();
        Assert.Equal(TinyLlama.Config.Layers, layers.Count);
        foreach (var p in layers)
        {
            Assert.Equal(new long[] { TinyLlama.Config.Heads, Prompt.Length, Prompt.Length }, p.shape);
            using var sums = p.sum(new long[] { -1 });
            Assert.True(sums.sub(1).abs().max().item<float>() < 1e-5);
            using var upper = p.triu(1);
            Assert.True(upper.abs().max().item<float>() == 0);
            p.Dispose();
        }
        var rollout = Attribution.Explain(input, AttributionMethod.AttentionRollout);
        Assert.Equal(1.0, rollout.Sum(v => (double)v), 4);
    }

    [Fact]
    public void SavedLlamaLoadsBackWithTheSameLogits()
    {
        using var folder = new TempFolder();
        using var model = TinyLlama.Create(folder.Path);
        Assert.True(File.Exists(Path.Combine(folder.Path, "model.safetensors")));
        using var again = CausalLm.Load(folder.Path);
        using var ids = torch.tensor(Prompt).unsqueeze(0);
        using var noGrad = torch.no_grad();
        using var a = model.Logits(model.Embed(ids));
        using var b = again.Logits(again.Embed(ids));
        Assert.True(a.allclose(b));
    }
}
