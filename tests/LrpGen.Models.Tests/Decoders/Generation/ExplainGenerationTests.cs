using System;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.Tests.Decoders.Families;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Generation;

/// <summary>ExplainGeneration against separate explanations: row s of the one-backward matrix equals
/// <see cref="CausalLm.Explain(System.Collections.Generic.IReadOnlyList{long[]}, ExplainRequest, bool)"/> on the prefix up
/// to token s with token s as the target, for every causal family (the golden LLaMA, Qwen3-MoE and GPT-2, and a tiny
/// random model of every other family in float64) and for batches padded either way.</summary>
public class ExplainGenerationTests
{
    private static readonly long[][] Prompts =
    {
        new long[] { 5, 17, 3, 42, 8, 23, 11 },
        new long[] { 30, 2 },
        new long[] { 9, 9, 31, 27, 4 },
    };

    /// <summary>Row s against a separate explanation of its prefix, to <paramref name="tolerance"/> of the row's largest
    /// value; the logit, probability, score and row sum against the same separate run. <paramref name="rows"/>: the rows
    /// compared (null: all).</summary>
    private static void AssertRowsMatchSeparateExplanations(CausalLm lm, GenerationExplanation explained, ExplainRequest request, double tolerance,
        int[]? rows = null)
    {
        int prompt = explained.Prompt.Length;
        Assert.Equal(prompt + explained.Generated.Length, explained.Tokens.Length);
        foreach (int s in rows ?? Enumerable.Range(0, explained.Generated.Length).ToArray())
        {
            var prefix = explained.Tokens.Take(prompt + s).ToArray();
            Assert.Equal(prompt - 1 + s, explained.ExplainedPosition(s));
            using var alone = lm.Explain(new[] { prefix }, request with { Targets = new[] { explained.Generated[s] } });
            var expected = alone.TokenRelevance[0].to(ScalarType.Float64).data<double>().ToArray();
            double scale = expected.Max(Math.Abs);
            var row = explained.Row(s);
            for (int t = 0; t < prefix.Length; t++)
                Assert.True(Math.Abs(row[t] - expected[t]) <= tolerance * scale, $"row {s}, position {t}: {row[t]} vs separate {expected[t]} (max {scale:E3})");
            for (int t = prefix.Length; t < row.Length; t++) Assert.Equal(0, row[t]);
            Assert.Equal(expected.Sum(), explained.RowSums[s], 1e-4 * Math.Max(1, Math.Abs(expected.Sum())));
            Assert.Equal(alone.TargetLogits[0], explained.Scores[s], 1e-4 * Math.Max(1, Math.Abs(alone.TargetLogits[0])));
            double logit = alone.Logits[0, explained.Generated[s]].to(ScalarType.Float64).item<double>();
            Assert.Equal(logit, explained.Logits[s], 1e-4 * Math.Max(1, Math.Abs(logit)));
            double probability = alone.Logits[0].to(ScalarType.Float64).softmax(0)[explained.Generated[s]].item<double>();
            Assert.Equal(probability, explained.Probabilities[s], 1e-5);
        }
    }

    [Theory]
    [InlineData("llama", LrpMethod.AttnLrp)]
    [InlineData("llama", LrpMethod.CpLrp)]
    [InlineData("llama", LrpMethod.Gradient)]
    [InlineData("qwen3moe", LrpMethod.AttnLrp)]
    [InlineData("gpt2", LrpMethod.AttnLrp)]
    [InlineData("gpt2", LrpMethod.Gradient)]
    public void GoldenModelsRowsEqualSeparateExplanations(string model, LrpMethod method)
    {
        using var lm = CausalLm.Load(GoldenData.Folder(model));
        var generated = lm.Generate(Prompts[0], new GenerationOptions { MaxNewTokens = 5, EosTokenIds = Array.Empty<long>() });
        var request = new ExplainRequest { Method = method };
        AssertRowsMatchSeparateExplanations(lm, lm.ExplainGeneration(Prompts[0], generated.Tokens, request), request, 1e-5);
    }

    public static TheoryData<string> Families()
    {
        var cases = new TheoryData<string>();
        foreach (var family in FamilyTests.Families.Keys) cases.Add(family);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryFamilysRowsEqualSeparateExplanations(string family)
    {
        var f = FamilyTests.Families[family]().Draw(seed: 11);
        using var folder = f.Write();
        using var lm = CausalLm.Load(folder.Path, ScalarType.Float64);
        var prompt = new long[] { 3, 14, 15, 9, 2, 6 };
        // Any tokens can be explained, not only the model's own choice: a fixed answer that runs past the sliding windows.
        var answer = new long[] { 5, 35, 8, 9, 7 };
        var request = new ExplainRequest { Method = LrpMethod.AttnLrp };
        // RMSNorm and the attention softmax run in float32 as Hugging Face's do, so a longer forward rounds differently
        // there: float32 rounding of the row's largest value, FamilyTests' tolerance.
        AssertRowsMatchSeparateExplanations(lm, lm.ExplainGeneration(prompt, answer, request), request, FamilyTests.Tolerance);
    }

    [Theory]
    [InlineData("llama", true)]
    [InlineData("llama", false)]
    [InlineData("gpt2", false)]
    [InlineData("qwen3moe", true)]
    public void BatchedPromptsEqualSinglePrompts(string model, bool padLeft)
    {
        using var lm = CausalLm.Load(GoldenData.Folder(model));
        // Answers of different lengths: the shorter rows get no seed past their end.
        var answers = new[] { new long[] { 4, 8, 15 }, new long[] { 16 }, new long[] { 23, 42, 7, 1 } };
        var request = new ExplainRequest { Method = LrpMethod.AttnLrp };
        var batch = lm.ExplainGeneration(Prompts, answers, request, padLeft);
        for (int b = 0; b < Prompts.Length; b++)
        {
            var alone = lm.ExplainGeneration(Prompts[b], answers[b], request);
            Assert.Equal(alone.Tokens, batch[b].Tokens);
            for (int s = 0; s < answers[b].Length; s++)
            {
                var a = alone.Row(s);
                var r = batch[b].Row(s);
                double scale = a.Max(Math.Abs);
                for (int t = 0; t < a.Length; t++)
                    Assert.True(Math.Abs(a[t] - r[t]) <= 1e-5 * scale, $"prompt {b}, row {s}, position {t}: batch {r[t]} vs alone {a[t]}");
                Assert.Equal(alone.Logits[s], batch[b].Logits[s], 1e-4);
            }
        }
    }

    /// <summary>A long answer over Llama 3's vocabulary size: 130 tokens of 128,256. Seeds dense over the vocabulary
    /// would be 130 x 130 x 128,256 = 2.17e9 numbers (8.7 GB in float32, more than one .NET array holds, so this threw
    /// before); seeds that name the explained ids are 130 x 130 x 3 numbers. A tiny model (hidden 8) with soft-capped
    /// final logits and tied embeddings (Gemma 2), rows against separate explanations.</summary>
    [Fact]
    public void LongAnswersOverALargeVocabularyNeedNoDenseSeeds()
    {
        const int vocab = 128_256, hidden = 8, answerLength = 130;
        var gemma = FamilyTests.Families["gemma2"]();
        var config = new System.Collections.Generic.Dictionary<string, object?>(gemma.Config)
        {
            ["vocab_size"] = vocab, ["hidden_size"] = hidden, ["max_position_embeddings"] = 256,
        };
        var f = (gemma with { Vocab = vocab, Hidden = hidden, Config = config }).Draw(seed: 5);
        using var folder = f.Write();
        using var lm = CausalLm.Load(folder.Path, ScalarType.Float64);
        Assert.Equal(vocab, lm.Config.VocabSize);
        var prompt = new long[] { vocab - 1, 3, 27_182, 31_415, 8 };
        var answer = Enumerable.Range(0, answerLength).Select(s => (long)((s * 7_919L + 13) % vocab)).ToArray();
        var request = new ExplainRequest { Method = LrpMethod.AttnLrp, Rivals = new long[] { 100_000 } };
        var explained = lm.ExplainGeneration(prompt, answer, request);
        Assert.Equal(answerLength, explained.Relevance.GetLength(0));
        AssertRowsMatchSeparateExplanations(lm, explained, request, FamilyTests.Tolerance, new[] { 0, 1, 64, answerLength - 1 });
    }

    [Fact]
    public void RivalsGiveTheContrastOfEachToken()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var answer = new long[] { 7, 40, 12 };
        var request = new ExplainRequest { Method = LrpMethod.CpLrp, Rivals = new long[] { 11, 12 } };
        AssertRowsMatchSeparateExplanations(lm, lm.ExplainGeneration(Prompts[2], answer, request), request, 1e-5);
    }

    [Fact]
    public void WrongRequestsAreOneLineErrors()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        void Fails(Action call, string message)
        {
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Contains(message, e.Message);
        }
        var request = new ExplainRequest();
        Fails(() => lm.ExplainGeneration(Prompts, new[] { new long[] { 1 } }, request), "1 generated answers for 3 prompts");
        Fails(() => lm.ExplainGeneration(Prompts[0], Array.Empty<long>(), request), "prompt 0 has no generated tokens to explain");
        Fails(() => lm.ExplainGeneration(Prompts[0], new long[] { 3, 96 }, request), "generated token 96 (1) is outside the vocabulary [0, 96)");
        Fails(() => lm.ExplainGeneration(Prompts[0], new long[] { 3 }, request with { Targets = new long[] { 1 } }), "leave ExplainRequest.Targets null");
        Fails(() => lm.ExplainGeneration(Prompts[0], new long[] { 3 }, request with { Latents = new[] { "layers.*" } }), "leave ExplainRequest.Latents empty");
        Fails(() => lm.ExplainGeneration(Prompts[0], new long[] { 3 }, request with { Rivals = new long[] { -1 } }), "rival -1 is not a token id");
        Fails(() => lm.ExplainGeneration(Prompts[0], new long[] { 3 }, request with
        {
            Interventions = new System.Collections.Generic.Dictionary<string, Func<Tensor, Tensor>> { ["lm_head"] = x => x },
        }), "intervene at an earlier point");
    }
}
