using System;
using System.Linq;
using LLama.Native;
using LrpGen.Models.Gguf;
using LrpGen.Models.Tests.HuggingFace;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>The dense decoder families that GGUF stores under their own architecture (qwen2: q/k/v biases; qwen3:
/// q/k RMSNorm) or under LLaMA's (Mistral: its window, 4096 here, covers the 256-token context), each a small random model written as a Hugging Face folder and converted to GGUF: llama.cpp's f32
/// logits at every position against ours from the GGUF file and from the folder, within 1e-3 x max|logit|; and after
/// llama.cpp quantizes the file to Q8_0 and Q4_K_M (<see cref="QuantizedComparison"/>).</summary>
public class FamilyGgufReferenceTests
{
    private readonly ITestOutputHelper _output;

    public FamilyGgufReferenceTests(ITestOutputHelper output) => _output = output;

    /// <summary>The family's tiny model as a Hugging Face folder ("hf") and as an f32 GGUF; returns the GGUF's path.</summary>
    private static string WriteModel(TempFolder temp, string modelType)
    {
        string folder = temp.File("hf");
        TinyLlama.Write(folder, seed: 17, modelType: modelType, qkvBias: modelType == "qwen2", qkNorm: modelType == "qwen3",
            slidingWindow: modelType == "mistral" ? 4096 : null);
        string gguf = temp.File("model-f32.gguf");
        GgufConversion.FromHuggingFace(folder, gguf, ScalarType.Float32, TestVocabulary.Metadata(TinyLlama.Vocab));
        return gguf;
    }

    /// <summary>BOS and 99 random tokens of the test vocabulary.</summary>
    private static long[] Prompt()
    {
        var random = new Random(9);
        return new long[] { TestVocabulary.Bos }.Concat(Enumerable.Range(0, 99).Select(_ => (long)random.Next(TestVocabulary.FirstByte, TinyLlama.Vocab))).ToArray();
    }

    [Theory]
    [InlineData("qwen2", "qwen2")]
    [InlineData("qwen3", "qwen3")]
    [InlineData("mistral", "llama")]
    public void Float32MatchesLlamaCppFromGgufAndFromTheFolder(string modelType, string ggufArchitecture)
    {
        using var temp = new TempFolder();
        string gguf = WriteModel(temp, modelType);
        Assert.Equal(ggufArchitecture, GgufFile.Open(gguf).GetString("general.architecture"));
        var ids = Prompt();
        var reference = LlamaCpp.Logits(gguf, ids);
        foreach (var (what, path) in new[] { ("gguf", gguf), ("folder", temp.File("hf")) })
        {
            double worst = LlamaCppReferenceTests.WorstRelativeGap(reference, LlamaCppReferenceTests.OurLogits(path, ids), $"{modelType} {what}");
            _output.WriteLine($"{modelType} f32 from {what}: max over positions of max|diff| / max|logit| = {worst:E2}");
        }
    }

    /// <summary>The same models quantized by llama.cpp: Pearson of all logits >= 0.999, same argmax at >= 98% of positions.</summary>
    [Theory]
    [InlineData("qwen2", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("qwen2", LLamaFtype.MOSTLY_Q4_K_M)]
    [InlineData("qwen3", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("qwen3", LLamaFtype.MOSTLY_Q4_K_M)]
    [InlineData("mistral", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("mistral", LLamaFtype.MOSTLY_Q4_K_M)]
    public void QuantizedCorrelatesWithLlamaCpp(string modelType, LLamaFtype type)
    {
        using var temp = new TempFolder();
        QuantizedComparison.AssertAcceptable(QuantizedComparison.Run(modelType, WriteModel(temp, modelType), type, Prompt(), _output));
    }

    /// <summary>A Mistral whose window is shorter than its context would lose the window in GGUF (llama.cpp's "llama"
    /// attends to everything): the converter refuses it.</summary>
    [Fact]
    public void MistralWithAShorterWindowThanItsContextIsRefused()
    {
        using var temp = new TempFolder();
        string folder = temp.File("hf");
        TinyLlama.Write(folder, seed: 17, modelType: "mistral", slidingWindow: 64);
        var error = Assert.Throws<LrpGen.Models.HuggingFace.CheckpointException>(() => GgufConversion.FromHuggingFace(folder, temp.File("m.gguf")));
        Assert.Contains("sliding_window 64 is shorter than max_position_embeddings 256", error.Message);
    }
}
