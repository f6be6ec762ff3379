using System;
using System.Linq;
using LLama.Native;
using LrpGen.Models.Decoders;
using LrpGen.Models.Gguf;
using LrpGen.Models.Tests.HuggingFace;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>Mixtral (GGUF "llama" with experts), Phi-3 (fused projections, longrope factor tensors) and Llama 3.1's
/// llama3 RoPE scaling (rope_freqs.weight), each a small random model written as a Hugging Face folder and converted
/// to GGUF by our writer: llama.cpp's f32 logits at every position against ours from the GGUF and from the folder
/// (within 1e-3 x max|logit|); then the GGUF quantized by llama.cpp to Q8_0 and Q4_K_M (Pearson of all logits >= 0.999,
/// the same argmax at >= 98% of positions).</summary>
public class MoePhiRopeGgufReferenceTests
{
    private readonly ITestOutputHelper _output;

    public MoePhiRopeGgufReferenceTests(ITestOutputHelper output) => _output = output;

    private static string WriteGguf(TempFolder temp, string family)
    {
        string folder = temp.File("hf");
        TinyLlamaVariants.Write(folder, family, seed: 21);
        string gguf = temp.File("model-f32.gguf");
        GgufConversion.FromHuggingFace(folder, gguf, ScalarType.Float32, TestVocabulary.Metadata(TinyLlama.Vocab));
        return gguf;
    }

    [Theory]
    [InlineData("mixtral")]
    [InlineData("phi3")]
    [InlineData("llama3")]
    [InlineData("qwen3_moe")]
    public void Float32MatchesLlamaCppFromGgufAndFromTheFolder(string family)
    {
        using var temp = new TempFolder();
        string gguf = WriteGguf(temp, family);
        var ids = TinyLlamaVariants.Prompt(seed: 8, count: 100);
        var reference = LlamaCpp.Logits(gguf, ids);
        foreach (var (what, path) in new[] { ("gguf", gguf), ("folder", temp.File("hf")) })
        {
            double worst = LlamaCppReferenceTests.WorstRelativeGap(reference, LlamaCppReferenceTests.OurLogits(path, ids), $"{family} {what}");
            _output.WriteLine($"{family} f32 from {what}: max over positions of max|diff| / max|logit| = {worst:E2}");
        }
    }

    /// <summary>The GGUF reads as the family it was written from: the router and experts, the fused projections, the
    /// RoPE factors are where the folder has them (so the comparison above is not two wrong models agreeing).</summary>
    [Theory]
    [InlineData("mixtral")]
    [InlineData("phi3")]
    [InlineData("llama3")]
    [InlineData("qwen3_moe")]
    public void TheGgufReadsAsItsFamily(string family)
    {
        using var temp = new TempFolder();
        string gguf = WriteGguf(temp, family);
        using var lm = CausalLm.Load(gguf);
        var c = lm.Config;
        switch (family)
        {
            case "mixtral":
                Assert.Equal("llama", GgufFile.Open(gguf).GetString("general.architecture"));
                Assert.Equal(("mixtral", TinyLlamaVariants.Experts, TinyLlamaVariants.ExpertsPerToken, TinyLlama.Intermediate, true),
                    (c.ModelType, c.Experts, c.ExpertsPerToken, c.MoeIntermediateSize, c.NormTopkProb));
                break;
            case "qwen3_moe":
                Assert.Equal("qwen3moe", GgufFile.Open(gguf).GetString("general.architecture"));
                Assert.Equal(("qwen3_moe", TinyLlamaVariants.Experts, TinyLlamaVariants.ExpertsPerToken, TinyLlama.Intermediate, true, true),
                    (c.ModelType, c.Experts, c.ExpertsPerToken, c.MoeIntermediateSize, c.NormTopkProb, c.QkNorm));
                break;
            case "phi3":
                var longrope = Assert.IsType<LongRopeScaling>(c.RopeScaling);
                Assert.Equal(TinyLlamaVariants.Phi3OriginalPositions, longrope.OriginalMaxPositions);
                // Hugging Face's attention factor for max/original = 4: sqrt(1 + ln 4 / ln 256), stored as float32.
                Assert.Equal(Math.Sqrt(1 + Math.Log(4) / Math.Log(TinyLlamaVariants.Phi3OriginalPositions)), longrope.AttentionFactor, 6);
                break;
            case "llama3":
                // The one list of llama.cpp's factors: 1 for the fastest frequencies, the factor 8 for the slowest.
                var factors = Assert.IsType<LongRopeScaling>(c.RopeScaling);
                Assert.Equal(factors.ShortFactor, factors.LongFactor);
                Assert.Equal(1.0, factors.ShortFactor[0], 6);
                Assert.Equal(8.0, factors.ShortFactor[^1], 6);
                Assert.Equal(1.0, factors.AttentionFactor);
                break;
        }
    }

    /// <summary>llama.cpp picks Phi-3's long factors when its context (the prompt's length rounded up to a multiple of
    /// 256) exceeds the original context, Hugging Face and we when the sequence does: at the positions past the
    /// original context all three use the long factors.</summary>
    [Fact]
    public void Phi3LongFactorsMatchLlamaCppPastTheOriginalContext()
    {
        using var temp = new TempFolder();
        string gguf = WriteGguf(temp, "phi3");
        var ids = TinyLlamaVariants.Prompt(seed: 12, count: 300);
        var reference = LlamaCpp.Logits(gguf, ids);
        int from = TinyLlamaVariants.Phi3OriginalPositions;
        foreach (var (what, path) in new[] { ("gguf", gguf), ("folder", temp.File("hf")) })
        {
            var ours = LlamaCppReferenceTests.OurLogits(path, ids);
            double worst = LlamaCppReferenceTests.WorstRelativeGap(reference.Skip(from).ToList(), ours.Skip(from).ToList(), $"phi3 long {what}");
            _output.WriteLine($"phi3 f32 long factors (positions {from}..{ids.Length - 1}) from {what}: max|diff| / max|logit| = {worst:E2}");
        }
    }

    [Theory]
    [InlineData("mixtral", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("mixtral", LLamaFtype.MOSTLY_Q4_K_M)]
    [InlineData("phi3", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("phi3", LLamaFtype.MOSTLY_Q4_K_M)]
    [InlineData("llama3", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("llama3", LLamaFtype.MOSTLY_Q4_K_M)]
    [InlineData("qwen3_moe", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("qwen3_moe", LLamaFtype.MOSTLY_Q4_K_M)]
    public void QuantizedCorrelatesWithLlamaCpp(string family, LLamaFtype type)
    {
        using var temp = new TempFolder();
        string f32 = WriteGguf(temp, family);
        var figures = QuantizedComparison.Run(family, f32, type, TinyLlamaVariants.Prompt(seed: 8, count: 100), _output);
        QuantizedComparison.AssertAcceptable(figures);
    }
}
