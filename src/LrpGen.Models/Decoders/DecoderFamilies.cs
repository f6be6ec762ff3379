using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.HuggingFace;
using static LrpGen.Models.Decoders.DecoderConfigReading;

namespace LrpGen.Models.Decoders;

/// <summary>The decoder families <see cref="CausalLm"/> loads, one registration each. A family that differs from
/// LLaMA only in configuration is one line here: its model_type, GGUF architecture, and a config reader composed of
/// <see cref="DecoderConfigReading"/>'s pieces. What each family supports and the rule of each special operation:
/// docs/models.md.</summary>
public static class DecoderFamilies
{
    public static IReadOnlyList<DecoderFamily> All { get; } = new DecoderFamily[]
    {
        new("llama", "llama", c => Llama(c, "llama"), DecoderModule.Llama, CheckpointNames.Llama),
        new("mistral", "llama", c => SlidingEveryLayer(c, Llama(c, "mistral")), DecoderModule.Llama, CheckpointNames.Llama),
        new("mixtral", "llama", c => SlidingEveryLayer(c, Experts(c, Llama(c, "mixtral"), "intermediate_size", renormalise: true)),
            DecoderModule.Llama, CheckpointNames.Mixtral),
        new("qwen2", "qwen2", c => QwenSliding(c, Llama(c, "qwen2") with { QkvBias = true }), DecoderModule.Llama, CheckpointNames.Llama),
        new("qwen3", "qwen3", c => QwenSliding(c, Llama(c, "qwen3") with { QkNorm = true }), DecoderModule.Llama, CheckpointNames.Llama),
        new("qwen3_moe", "qwen3moe", c => QwenSliding(c, Experts(c, Llama(c, "qwen3_moe"), "moe_intermediate_size") with { QkNorm = true }),
            DecoderModule.Llama, CheckpointNames.Llama),
        new("phi3", "phi3", c => SlidingEveryLayer(c, Llama(c, "phi3")), DecoderModule.Llama, CheckpointNames.Phi3),
        new("gemma2", "gemma2", c => Gemma(c, "gemma2", pattern: 2, attentionSoftcap: 50, finalSoftcap: 30), DecoderModule.Gemma, CheckpointNames.Llama),
        new("gemma3_text", "gemma3", c => Gemma(c, "gemma3_text", pattern: 6, attentionSoftcap: 0, finalSoftcap: 0), DecoderModule.Gemma, CheckpointNames.Llama),
        new("gpt2", "gpt2", DecoderConfigReading.Gpt2, DecoderModule.Gpt2, CheckpointNames.Gpt2, PositionsKey: "n_positions"),
    };

    /// <summary>The family of config.json's model_type; an unknown one is a one-line error listing the supported.</summary>
    public static DecoderFamily Of(CheckpointFolder folder) =>
        Find(folder.ModelType) ?? throw folder.Values.Unsupported(
            $"model_type '{folder.ModelType}' is not a supported causal LM ({string.Join(", ", All.Select(f => f.ModelType))}).");

    /// <summary>The family registered for <paramref name="modelType"/>, or null.</summary>
    public static DecoderFamily? Find(string modelType) => All.FirstOrDefault(f => f.ModelType == modelType);

    /// <summary>The families llama.cpp stores under GGUF architecture <paramref name="architecture"/> ("llama": LLaMA,
    /// Mistral and Mixtral, told apart by the expert count and the sliding window).</summary>
    public static IReadOnlyList<DecoderFamily> OfGgufArchitecture(string architecture) =>
        All.Where(f => f.GgufArchitecture == architecture).ToList();

    /// <summary>Gemma 2 and 3: GeGLU with tanh GELU, (1 + w) RMSNorms, embeddings scaled by sqrt(hidden), tied
    /// embeddings by default, query_pre_attn_scalar, soft-capping (Gemma 2), sliding-window layers alternating with
    /// full ones, and (Gemma 3) q/k norms and a RoPE base of their own for the sliding-window layers. Keys absent from
    /// config.json take transformers' defaults (a soft-cap written as null is none).</summary>
    private static DecoderConfig Gemma(ConfigReader c, string modelType, int pattern, double attentionSoftcap, double finalSoftcap)
    {
        double Softcap(string key, double fallback) =>
            !c.Root.TryGetProperty(key, out _) ? fallback : c.Get(key) is null ? 0 : c.PositiveNumber(key, fallback);
        bool gemma3 = modelType == "gemma3_text";
        var config = Llama(c, modelType, "gelu_pytorch_tanh") with
        {
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", true),
            NormUnitOffset = true,
            ScaleEmbeddings = true,
            QkNorm = gemma3,
            QueryPreAttnScalar = c.PositiveNumber("query_pre_attn_scalar", 256),
            AttentionSoftcap = Softcap("attn_logit_softcapping", attentionSoftcap),
            FinalLogitSoftcap = Softcap("final_logit_softcapping", finalSoftcap),
        };
        if (gemma3)
        {
            var local = RopeSection(c, "sliding_attention");
            double localTheta = c.Get("rope_local_base_freq") is not null ? c.PositiveNumber("rope_local_base_freq", 10000)
                : local is { } l && l.Key.EndsWith("sliding_attention", StringComparison.Ordinal) ? RopeTheta(c, local) : 10000;
            config = config with { LocalRopeTheta = localTheta };
        }
        return !c.Root.TryGetProperty("sliding_window", out _) ? AlternatingSliding(c, config, pattern, defaultWindow: 4096)
            : c.Get("sliding_window") is null ? config : AlternatingSliding(c, config, pattern);
    }
}
