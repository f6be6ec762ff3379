using System;
using System.Text.Json;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Decoders;

/// <summary>The llama3 RoPE frequency scaling (config "rope_type": "llama3").</summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions);

/// <summary>The configuration shared by the decoder families (LLaMA, Qwen3-MoE), read from config.json.</summary>
public sealed record DecoderConfig
{
    public string ModelType { get; init; } = "";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int Layers { get; init; }
    public int Heads { get; init; }
    public int KvHeads { get; init; }
    public int HeadDim { get; init; }
    public double RmsNormEps { get; init; }
    public double RopeTheta { get; init; }
    public Llama3RopeScaling? RopeScaling { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public bool TieWordEmbeddings { get; init; }
    public bool QkNorm { get; init; }
    public int Experts { get; init; }
    public int ExpertsPerToken { get; init; }
    public int MoeIntermediateSize { get; init; }
    public bool NormTopkProb { get; init; }
    public string HiddenAct { get; init; } = "silu";
    public int MaxPositions { get; init; }
    public double LayerNormEps { get; init; }

    public static DecoderConfig From(CheckpointFolder folder)
    {
        string type = folder.ModelType;
        if (type == "gpt2") return Gpt2(folder);
        if (type is not ("llama" or "qwen3_moe"))
            throw new CheckpointException($"{folder.ConfigPath}: model_type '{type}' is not a supported causal LM (llama, qwen3_moe, gpt2).", folder.ConfigPath);
        int hidden = folder.GetInt("hidden_size");
        int heads = folder.GetInt("num_attention_heads");
        var config = new DecoderConfig
        {
            ModelType = type,
            VocabSize = folder.GetInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = folder.GetOptionalInt("intermediate_size") ?? 0,
            Layers = folder.GetInt("num_hidden_layers"),
            Heads = heads,
            KvHeads = folder.GetOptionalInt("num_key_value_heads") ?? heads,
            HeadDim = folder.GetOptionalInt("head_dim") ?? hidden / heads,
            RmsNormEps = folder.GetOptionalDouble("rms_norm_eps") ?? 1e-6,
            AttentionBias = folder.GetBool("attention_bias", false),
            MlpBias = folder.GetBool("mlp_bias", false),
            TieWordEmbeddings = folder.GetBool("tie_word_embeddings", false),
            QkNorm = type == "qwen3_moe",
            Experts = type == "qwen3_moe" ? folder.GetOptionalInt("num_experts") ?? folder.GetInt("num_local_experts") : 0,
            ExpertsPerToken = type == "qwen3_moe" ? folder.GetInt("num_experts_per_tok") : 0,
            MoeIntermediateSize = type == "qwen3_moe" ? folder.GetInt("moe_intermediate_size") : 0,
            NormTopkProb = folder.GetBool("norm_topk_prob", false),
            HiddenAct = folder.Get("hidden_act")?.GetString() ?? "silu",
        };
        if (config.HiddenAct != "silu")
            throw new CheckpointException($"{folder.ConfigPath}: hidden_act '{config.HiddenAct}' is not supported (silu).", folder.ConfigPath);
        if (config.Heads % config.KvHeads != 0)
            throw new CheckpointException($"{folder.ConfigPath}: num_attention_heads {config.Heads} is not a multiple of num_key_value_heads {config.KvHeads}.", folder.ConfigPath);
        if (type == "qwen3_moe")
        {
            var mlpOnly = folder.Get("mlp_only_layers");
            if (mlpOnly is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0)
                throw new CheckpointException($"{folder.ConfigPath}: mlp_only_layers (dense layers in a Qwen3-MoE) is not supported.", folder.ConfigPath);
            int step = folder.GetOptionalInt("decoder_sparse_step") ?? 1;
            if (step != 1)
                throw new CheckpointException($"{folder.ConfigPath}: decoder_sparse_step {step} is not supported (1).", folder.ConfigPath);
        }
        return config with { RopeTheta = RopeThetaOf(folder), RopeScaling = RopeScalingOf(folder) };
    }

    private static DecoderConfig Gpt2(CheckpointFolder folder)
    {
        int hidden = folder.GetInt("n_embd");
        string act = folder.Get("activation_function")?.GetString() ?? "gelu_new";
        if (act != "gelu_new")
            throw new CheckpointException($"{folder.ConfigPath}: activation_function '{act}' is not supported (gelu_new).", folder.ConfigPath);
        if (folder.GetBool("scale_attn_by_inverse_layer_idx", false) || folder.GetBool("reorder_and_upcast_attn", false))
            throw new CheckpointException($"{folder.ConfigPath}: scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported.", folder.ConfigPath);
        if (!folder.GetBool("scale_attn_weights", true))
            throw new CheckpointException($"{folder.ConfigPath}: scale_attn_weights false is not supported.", folder.ConfigPath);
        int heads = folder.GetInt("n_head");
        return new DecoderConfig
        {
            ModelType = "gpt2",
            VocabSize = folder.GetInt("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = folder.GetOptionalInt("n_inner") ?? 4 * hidden,
            Layers = folder.GetInt("n_layer"),
            Heads = heads,
            KvHeads = heads,
            HeadDim = hidden / heads,
            MaxPositions = folder.GetInt("n_positions"),
            LayerNormEps = folder.GetOptionalDouble("layer_norm_epsilon") ?? 1e-5,
            TieWordEmbeddings = folder.GetBool("tie_word_embeddings", true),
            HiddenAct = act,
        };
    }

    /// <summary>transformers 5 writes "rope_parameters": {"rope_theta", "rope_type", ...}; older configs "rope_theta"
    /// and "rope_scaling".</summary>
    private static JsonElement? RopeParameters(CheckpointFolder folder) =>
        folder.Get("rope_parameters") is { ValueKind: JsonValueKind.Object } p ? p
        : folder.Get("rope_scaling") is { ValueKind: JsonValueKind.Object } s ? s : null;

    private static double RopeThetaOf(CheckpointFolder folder)
    {
        if (folder.GetOptionalDouble("rope_theta") is { } theta) return theta;
        if (RopeParameters(folder) is { } p && p.TryGetProperty("rope_theta", out var t) && t.ValueKind == JsonValueKind.Number) return t.GetDouble();
        return 10000.0;
    }

    private static Llama3RopeScaling? RopeScalingOf(CheckpointFolder folder)
    {
        if (RopeParameters(folder) is not { } p) return null;
        string type = p.TryGetProperty("rope_type", out var rt) ? rt.GetString() ?? "default"
            : p.TryGetProperty("type", out var t) ? t.GetString() ?? "default" : "default";
        if (type == "default") return null;
        if (type != "llama3")
            throw new CheckpointException($"{folder.ConfigPath}: rope type '{type}' is not supported (default, llama3).", folder.ConfigPath);
        double Number(string key) => p.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new CheckpointException($"{folder.ConfigPath}: the llama3 rope parameters lack '{key}'.", folder.ConfigPath);
        return new Llama3RopeScaling(Number("factor"), Number("low_freq_factor"), Number("high_freq_factor"), (int)Number("original_max_position_embeddings"));
    }
}
