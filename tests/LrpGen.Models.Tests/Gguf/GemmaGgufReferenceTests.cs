using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LLama.Native;
using LrpGen.Models.Decoders;
using LrpGen.Models.Gguf;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.HuggingFace;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>Gemma 2 and Gemma 3 (text) from GGUF against llama.cpp: a small random model (<see cref="TinyGemma"/>:
/// sliding window of 16 tokens, 100-token sequences) written as a Hugging Face folder and converted by our writer;
/// llama.cpp's f32 logits at every position against ours from the GGUF and from the folder (1e-3 x max|logit|), then
/// after llama.cpp quantizes the file to Q8_0 and Q4_K_M. Also: what the GGUF architectures cannot store is refused
/// when converting, and a file missing a tensor or Gemma's metadata is named in one line.</summary>
public class GemmaGgufReferenceTests
{
    private readonly ITestOutputHelper _output;

    public GemmaGgufReferenceTests(ITestOutputHelper output) => _output = output;

    private static string GgufArchitectureOf(string modelType) => modelType == "gemma2" ? "gemma2" : "gemma3";

    private static string WriteModel(TempFolder temp, string modelType, Action<System.Text.Json.Nodes.JsonObject>? edit = null)
    {
        string folder = temp.File("hf");
        TinyGemma.Write(folder, modelType, seed: 23, edit);
        string gguf = temp.File("model-f32.gguf");
        GgufConversion.FromHuggingFace(folder, gguf, ScalarType.Float32, TestVocabulary.Metadata(TinyGemma.Vocab));
        return gguf;
    }

    /// <summary>BOS and 99 random tokens of the test vocabulary.</summary>
    private static long[] Prompt()
    {
        var random = new Random(13);
        return new long[] { TestVocabulary.Bos }.Concat(Enumerable.Range(0, 99).Select(_ => (long)random.Next(TestVocabulary.FirstByte, TinyGemma.Vocab))).ToArray();
    }

    /// <summary>f32: within 1e-3 x max|logit| at every position, from the GGUF and from the folder. The same weights
    /// with a window covering the whole sequence differ from llama.cpp by far more (so the window is in effect, and
    /// this comparison would see it lost).</summary>
    [Theory]
    [InlineData("gemma2")]
    [InlineData("gemma3_text")]
    public void Float32MatchesLlamaCppFromGgufAndFromTheFolder(string modelType)
    {
        using var temp = new TempFolder();
        string gguf = WriteModel(temp, modelType);
        Assert.Equal(GgufArchitectureOf(modelType), GgufFile.Open(gguf).GetString("general.architecture"));
        var ids = Prompt();
        var reference = LlamaCpp.Logits(gguf, ids);
        foreach (var (what, path) in new[] { ("gguf", gguf), ("folder", temp.File("hf")) })
        {
            double worst = LlamaCppReferenceTests.WorstRelativeGap(reference, LlamaCppReferenceTests.OurLogits(path, ids), $"{modelType} {what}");
            _output.WriteLine($"{modelType} f32 from {what}: max over positions of max|diff| / max|logit| = {worst:E2}");
        }

        // The last position is the one farthest past the window: there its loss changes the most.
        string unwindowed = temp.File("unwindowed");
        TinyGemma.Write(unwindowed, modelType, seed: 23, c => c["sliding_window"] = 4096);
        var withoutWindow = LastLogits(unwindowed, ids);
        var last = reference[^1];
        double gap = last.Zip(withoutWindow, (a, b) => Math.Abs(a - b)).Max() / last.Max(Math.Abs);
        _output.WriteLine($"{modelType} without its window, last position: max|diff| / max|logit| = {gap:E2}");
        Assert.True(gap > 1e-2, $"{modelType}: the window changes the last logits by only {gap:E2}; the test sequence does not exercise it.");
    }

    private static float[] LastLogits(string model, long[] ids)
    {
        using var lm = CausalLm.Load(model);
        using var noGrad = TorchSharp.torch.no_grad();
        using var all = TorchSharp.torch.tensor(ids).unsqueeze(0);
        using var embeds = lm.Embed(all);
        using var logits = lm.Logits(embeds);
        return logits[0].data<float>().ToArray();
    }

    [Theory]
    [InlineData("gemma2", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("gemma2", LLamaFtype.MOSTLY_Q4_K_M)]
    [InlineData("gemma3_text", LLamaFtype.MOSTLY_Q8_0)]
    [InlineData("gemma3_text", LLamaFtype.MOSTLY_Q4_K_M)]
    public void QuantizedCorrelatesWithLlamaCpp(string modelType, LLamaFtype type)
    {
        using var temp = new TempFolder();
        QuantizedComparison.AssertAcceptable(QuantizedComparison.Run(modelType, WriteModel(temp, modelType), type, Prompt(), _output));
    }

    private static string ErrorOf(Action action)
    {
        var e = Assert.Throws<CheckpointException>(action);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    /// <summary>The model's GGUF rewritten without the metadata keys and tensors <paramref name="drop"/> names.</summary>
    private static string Without(TempFolder temp, string modelType, string drop)
    {
        string gguf = WriteModel(temp, modelType);
        var file = GgufFile.Open(gguf);
        var tensors = file.Tensors.Where(t => t.Name != drop).Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Load(t, ScalarType.Float32))).ToList();
        string edited = temp.File("edited.gguf");
        GgufWriter.Write(edited, file.Metadata.Where(m => m.Key != drop), tensors);
        foreach (var t in tensors) t.Value.Dispose();
        return edited;
    }

    [Theory]
    [InlineData("gemma2", "gemma2.attn_logit_softcapping", "(attn_logit_softcapping)")]
    [InlineData("gemma2", "gemma2.final_logit_softcapping", "(final_logit_softcapping)")]
    [InlineData("gemma2", "gemma2.attention.sliding_window", "(sliding_window)")]
    [InlineData("gemma3_text", "gemma3.attention.sliding_window", "(sliding_window)")]
    public void MissingMetadataIsNamed(string modelType, string key, string hfKey)
    {
        using var temp = new TempFolder();
        string gguf = Without(temp, modelType, key);
        Assert.Contains($"has no metadata '{key}' {hfKey}, which a {GgufArchitectureOf(modelType)} model needs", ErrorOf(() => CausalLm.Load(gguf)));
    }

    [Theory]
    [InlineData("gemma2", "blk.1.post_ffw_norm.weight")]
    [InlineData("gemma3_text", "blk.5.attn_k_norm.weight")]
    [InlineData("gemma3_text", "output_norm.weight")]
    public void MissingTensorIsNamed(string modelType, string tensor)
    {
        using var temp = new TempFolder();
        string gguf = Without(temp, modelType, tensor);
        string arch = GgufArchitectureOf(modelType);
        Assert.Contains(tensor.StartsWith("blk.", StringComparison.Ordinal)
            ? $"has no tensor '{tensor}', which every block of a {arch} model{(arch != modelType ? $" ({modelType})" : "")} needs"
            : $"has no tensor '{tensor}', which a {arch} model needs", ErrorOf(() => CausalLm.Load(gguf)));
    }

    /// <summary>llama.cpp derives Gemma's attention scale from the model size, takes the layer pattern as "every n-th
    /// layer full", and reads no output.weight for gemma2: a folder that differs would become another model in GGUF,
    /// so the conversion refuses it, naming the setting, and leaves no file.</summary>
    [Theory]
    [InlineData("gemma2", "query_pre_attn_scalar", "the attention scale (query_pre_attn_scalar^-1/2) is 0.125, but a GGUF 'gemma2' file makes llama.cpp compute 0.08838835")]
    [InlineData("gemma3_text", "layer_types", "layer 1's attention is full, but a GGUF 'gemma3' file makes llama.cpp compute sliding-window")]
    [InlineData("gemma2", "tie_word_embeddings", "tensor 'lm_head.weight' has no GGUF name in the gemma2 table")]
    public void ConversionRefusesWhatLlamaCppWouldComputeDifferently(string modelType, string key, string expected)
    {
        using var temp = new TempFolder();
        string folder = temp.File("hf");
        TinyGemma.Write(folder, modelType, seed: 23, c => c[key] = key switch
        {
            "query_pre_attn_scalar" => 64,
            // No "every n-th layer full" gives this.
            "layer_types" => new System.Text.Json.Nodes.JsonArray("sliding_attention", "full_attention", "full_attention",
                "sliding_attention", "sliding_attention", "full_attention"),
            _ => false,
        });
        if (key == "tie_word_embeddings")
            SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), WithLmHead(folder));
        string gguf = temp.File("model.gguf");
        Assert.Contains(expected, ErrorOf(() => GgufConversion.FromHuggingFace(folder, gguf, ScalarType.Float32, TestVocabulary.Metadata(TinyGemma.Vocab))));
        Assert.False(File.Exists(gguf));
    }

    /// <summary>A Gemma 3 whose layer pattern (every 3rd layer full) and local RoPE base (20000) are not llama.cpp's
    /// defaults: the writer stores them (attention.sliding_window_pattern, rope.freq_base_swa), llama.cpp reads them,
    /// and the logits agree as for the default model (40 positions).</summary>
    [Fact]
    public void Gemma3WithItsOwnPatternAndLocalBaseMatchesLlamaCpp()
    {
        using var temp = new TempFolder();
        string gguf = WriteModel(temp, "gemma3_text", c =>
        {
            c["sliding_window_pattern"] = 3;
            c["rope_local_base_freq"] = 20000.0;
        });
        var metadata = GgufFile.Open(gguf).Metadata;
        Assert.Equal(3.0, metadata["gemma3.attention.sliding_window_pattern"].AsDouble());
        Assert.Equal(20000.0, metadata["gemma3.rope.freq_base_swa"].AsDouble());
        var ids = Prompt()[..40];
        var reference = LlamaCpp.Logits(gguf, ids);
        foreach (var (what, path) in new[] { ("gguf", gguf), ("folder", temp.File("hf")) })
        {
            double worst = LlamaCppReferenceTests.WorstRelativeGap(reference, LlamaCppReferenceTests.OurLogits(path, ids), $"gemma3 (pattern 3, local base 20000) {what}");
            _output.WriteLine($"gemma3 (pattern 3, local base 20000) f32 from {what}: max over positions of max|diff| / max|logit| = {worst:E2}");
        }
    }

    /// <summary>A Gemma 2 file with a RoPE base of its own for the sliding-window layers (llama.cpp would use it; Gemma 2
    /// has none) is refused, naming the key.</summary>
    [Fact]
    public void Gemma2WithALocalRopeBaseIsRefused()
    {
        using var temp = new TempFolder();
        string gguf = WriteModel(temp, "gemma2");
        var file = GgufFile.Open(gguf);
        var tensors = file.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Load(t, ScalarType.Float32))).ToList();
        string edited = temp.File("edited.gguf");
        GgufWriter.Write(edited, file.Metadata.Append(new("gemma2.rope.freq_base_swa", GgufValue.Float32(20000f))), tensors);
        foreach (var t in tensors) t.Value.Dispose();
        Assert.Contains("metadata 'gemma2.rope.freq_base_swa' (a RoPE base of their own for the sliding-window layers, which Gemma 2 does not have) is not supported",
            ErrorOf(() => CausalLm.Load(edited)));
    }

    /// <summary>The folder's weights plus an untied lm_head.</summary>
    private static Dictionary<string, Tensor> WithLmHead(string folder)
    {
        var checkpoint = CheckpointFolder.Open(folder);
        var tensors = checkpoint.TensorNames.ToDictionary(n => n, n => checkpoint.Load(n, ScalarType.Float32));
        tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"] * 0.5;
        return tensors;
    }
}
