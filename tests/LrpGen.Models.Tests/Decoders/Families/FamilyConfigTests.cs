using System;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Families;

/// <summary>The registry and the families' config readers: defaults taken as transformers takes them, and every
/// unsupported or inconsistent setting a one-line error naming the key.</summary>
public class FamilyConfigTests
{
    private static DecoderConfig Read(string family, Action<System.Collections.Generic.Dictionary<string, object?>> edit)
    {
        var f = FamilyTests.Families[family]().Draw(seed: 1);
        edit(f.Config);
        using var folder = f.Write();
        return DecoderConfig.From(CheckpointFolder.Open(folder.Path));
    }

    private static CheckpointException Refused(string family, Action<System.Collections.Generic.Dictionary<string, object?>> edit) =>
        Assert.Throws<CheckpointException>(() => Read(family, edit));

    [Fact]
    public void EachFamilyIsRegisteredOnceWithItsGgufArchitecture()
    {
        var types = DecoderFamilies.All.Select(f => f.ModelType).ToList();
        Assert.Equal(types.Count, types.Distinct().Count());
        Assert.All(DecoderFamilies.All, f => Assert.False(string.IsNullOrEmpty(f.GgufArchitecture)));
        Assert.Equal(new[] { "llama", "mistral", "mixtral" }, DecoderFamilies.OfGgufArchitecture("llama").Select(f => f.ModelType));
    }

    [Fact]
    public void AnUnknownModelTypeNamesItAndTheSupportedOnes()
    {
        var e = Refused("gemma3_text", c => c["model_type"] = "gemma3");
        Assert.Contains("'gemma3'", e.Message);
        Assert.Contains("gemma3_text", e.Message);
        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void Gemma2TakesTransformersDefaultsForMissingKeys()
    {
        var config = Read("gemma2", c =>
        {
            c.Remove("attn_logit_softcapping");
            c.Remove("final_logit_softcapping");
            c.Remove("sliding_window");
            c.Remove("tie_word_embeddings");
        });
        Assert.Equal(50, config.AttentionSoftcap);
        Assert.Equal(30, config.FinalLogitSoftcap);
        Assert.Equal(4096, config.SlidingWindow);
        Assert.True(config.TieWordEmbeddings);
        Assert.Equal(new[] { true, false }, config.SlidingLayers);
        // Written as null, a cap is off.
        Assert.Equal(0, Read("gemma2", c => c["attn_logit_softcapping"] = null).AttentionSoftcap);
    }

    [Fact]
    public void LayerTypesDecideWhichLayersSlide()
    {
        var config = Read("mistral", c => c["layer_types"] = new[] { "full_attention", "sliding_attention" });
        Assert.False(config.IsSliding(0));
        Assert.True(config.IsSliding(1));
        var e = Refused("mistral", c => c["layer_types"] = new[] { "full_attention" });
        Assert.Contains("layer_types", e.Message);
        var unknown = Refused("gemma2", c => c["layer_types"] = new[] { "chunked_attention", "full_attention" });
        Assert.Contains("chunked_attention", unknown.Message);
    }

    [Fact]
    public void UnsupportedSettingsAreOneLineErrorsNamingTheKey()
    {
        Assert.Contains("short_factor", Refused("phi3", c => c["rope_scaling"] = new { type = "longrope", short_factor = new[] { 1.0 }, long_factor = new[] { 1.0, 2.0 } }).Message);
        Assert.Contains("long_factor", Refused("phi3", c => c["rope_scaling"] = new { type = "longrope", short_factor = new[] { 1.0, 1.0 } }).Message);
        Assert.Contains("partial_rotary_factor", Refused("phi3", c => c["partial_rotary_factor"] = 0.75).Message);
        Assert.Contains("hidden_act 'silu'", Refused("gemma2", c => { c["hidden_activation"] = "silu"; }).Message);
        Assert.Contains("rope type 'yarn'", Refused("qwen3", c => c["rope_parameters"] = new { rope_type = "yarn", rope_theta = 1e4 }).Message);
        Assert.Contains("num_experts_per_tok", Refused("mixtral", c => c["num_experts_per_tok"] = 5).Message);
        Assert.DoesNotContain('\n', Refused("phi3", c => c["partial_rotary_factor"] = 0.5).Message);
    }

    [Fact]
    public void GemmaAttentionProbabilitiesKeepTheSlidingWindow()
    {
        var f = FamilyTests.Families["gemma2"]().Draw(seed: 3);
        using var folder = f.Write();
        using var lm = CausalLm.Load(folder.Path, ScalarType.Float64);
        using var ids = torch.tensor(new long[,] { { 1, 2, 3, 4, 5, 6, 7 } });
        using var embeds = lm.Embed(ids);
        var probs = lm.AttentionProbabilities(embeds);
        Assert.Equal(2, probs.Count);
        foreach (var p in probs)
            Assert.True(p.sum(-1).sub(1).abs().max().item<double>() < 1e-6, "each query's probabilities sum to 1");
        // Layer 0 slides (window 3): the last query sees positions 4..6 only. Layer 1 is full: it sees position 0.
        Assert.Equal(0, probs[0][0, 0, 6, 3].item<double>());
        Assert.True(probs[0][0, 0, 6, 4].item<double>() > 0);
        Assert.True(probs[1][0, 0, 6, 0].item<double>() > 0);
    }
}
