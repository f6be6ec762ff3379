using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders;

/// <summary>A padded batch gives, row by row, what each prompt gives alone (left or right padding, every method).</summary>
public class BatchTests
{
    private static readonly long[][] Prompts =
    {
        new long[] { 5, 17, 3, 42, 8, 23, 11 },
        new long[] { 60, 2 },
        new long[] { 9, 9, 31, 77, 4 },
    };

    public static TheoryData<string, LrpMethod, bool> Cases() => new()
    {
        { "llama", LrpMethod.AttnLrp, true },
        { "llama", LrpMethod.CpLrp, false },
        { "llama", LrpMethod.Gradient, true },
        { "qwen3moe", LrpMethod.AttnLrp, false },
        { "qwen3moe", LrpMethod.AttnLrp, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BatchRowsEqualSinglePrompts(string model, LrpMethod method, bool padLeft)
    {
        using var lm = CausalLm.Load(GoldenData.Folder(model));
        var request = new ExplainRequest { Method = method, Latents = new[] { "layers.*" } };
        using var batch = lm.Explain(Prompts, request, padLeft);
        int length = Prompts.Max(p => p.Length);
        for (int b = 0; b < Prompts.Length; b++)
        {
            using var alone = lm.Explain(new[] { Prompts[b] }, request);
            Assert.Equal(alone.Targets[0], batch.Targets[b]);
            Assert.Equal(alone.TargetLogits[0], batch.TargetLogits[b], 4);
            int offset = padLeft ? length - Prompts[b].Length : 0;
            var rowTokens = batch.TokenRelevance[b].narrow(0, offset, Prompts[b].Length);
            GoldenCausalLmTests.AssertClose(rowTokens, alone.TokenRelevance[0], 1e-4, absolute: false, $"row {b} token relevance");
            foreach (var key in alone.Latents.Keys)
                GoldenCausalLmTests.AssertClose(batch.Latents[key][b].narrow(0, offset, Prompts[b].Length).sum(-1),
                    alone.Latents[key][0].sum(-1), GoldenCausalLmTests.Tolerance, absolute: false, $"row {b} {key}", floor: 1e-3 * Math.Abs(alone.TargetLogits[0]));
            // Padding carries no relevance.
            double padding = batch.TokenRelevance[b].abs().sum().item<float>() - rowTokens.abs().sum().item<float>();
            Assert.True(Math.Abs(padding) < 1e-6, $"row {b}: padding positions got relevance {padding}");
        }
    }

    /// <summary>In float64 a left-padded prompt's padding rows see no key at all; their masked scores must stay finite
    /// in the float32 softmax, or NaN reaches the real rows through 0 x NaN.</summary>
    [Theory]
    [InlineData(LrpMethod.AttnLrp)]
    [InlineData(LrpMethod.Gradient)]
    public void LeftPaddedFloat64BatchEqualsSinglePrompts(LrpMethod method)
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"), ScalarType.Float64);
        var request = new ExplainRequest { Method = method };
        using var batch = lm.Explain(Prompts, request, padLeft: true);
        int length = Prompts.Max(p => p.Length);
        for (int b = 0; b < Prompts.Length; b++)
        {
            using var alone = lm.Explain(new[] { Prompts[b] }, request);
            Assert.True(batch.TokenRelevance[b].isfinite().all().item<bool>(), $"row {b}: relevance not finite");
            Assert.Equal(alone.TargetLogits[0], batch.TargetLogits[b], 6);
            var rowTokens = batch.TokenRelevance[b].narrow(0, length - Prompts[b].Length, Prompts[b].Length);
            // 1e-5, not float64's rounding: the softmax and RMSNorm run in float32, as in Hugging Face (seen: 9e-7).
            GoldenCausalLmTests.AssertClose(rowTokens, alone.TokenRelevance[0], 1e-5, absolute: false, $"row {b} token relevance");
        }
    }

    [Fact]
    public void ContrastiveTargetIsTargetMinusMeanOfRivals()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var prompt = new[] { Prompts[0] };
        using var plain = lm.Explain(prompt, new ExplainRequest { Targets = new long[] { 7 }, Method = LrpMethod.CpLrp });
        using var rivalA = lm.Explain(prompt, new ExplainRequest { Targets = new long[] { 11 }, Method = LrpMethod.CpLrp });
        using var rivalB = lm.Explain(prompt, new ExplainRequest { Targets = new long[] { 12 }, Method = LrpMethod.CpLrp });
        using var contrast = lm.Explain(prompt, new ExplainRequest { Targets = new long[] { 7 }, Rivals = new long[] { 11, 12 }, Method = LrpMethod.CpLrp });
        // Relevance is linear in the seed: R(t - (a + b)/2) = R(t) - (R(a) + R(b)) / 2.
        var expected = plain.TokenRelevance - (rivalA.TokenRelevance + rivalB.TokenRelevance) / 2;
        GoldenCausalLmTests.AssertClose(contrast.TokenRelevance, expected, 1e-5, absolute: false, "contrastive relevance");
        float score = plain.TargetLogits[0] - (rivalA.TargetLogits[0] + rivalB.TargetLogits[0]) / 2;
        Assert.Equal(score, contrast.TargetLogits[0], 4);
    }

    [Fact]
    public void WrongRequestsAreClearErrors()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var e1 = Assert.Throws<ArgumentException>(() => { lm.Explain(Prompts, new ExplainRequest { Targets = new long[] { 1 } }); });
        Assert.Contains("one per prompt", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => { lm.Explain(new[] { new long[] { 1, 500 } }, new ExplainRequest()); });
        Assert.Contains("[0, 96)", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => { lm.Explain(new[] { Prompts[0] }, new ExplainRequest { Targets = new long[] { 96 } }); });
        Assert.Contains("target 96", e3.Message);
    }
}
