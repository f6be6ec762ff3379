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

    /// <summary>Reads and checks config.json: every size within <see cref="ConfigLimits"/>, the head counts and
    /// dimensions consistent; a problem is a <see cref="CheckpointException"/> naming the key and its value.</summary>
    public static DecoderConfig From(CheckpointFolder folder)
    {
        string type = folder.ModelType;
        var c = folder.Values;
        if (type == "gpt2") return Gpt2(c);
        if (type is not ("llama" or "qwen3_moe"))
            throw c.Unsupported($"model_type '{type}' is not a supported causal LM (llama, qwen3_moe, gpt2).");
        string act = c.GetString("hidden_act", "silu");
        if (act != "silu")
            throw c.Unsupported($"hidden_act '{act}' is not supported (silu).");
        int hidden = c.Size("hidden_size", ConfigLimits.HiddenSize);
        int heads = c.Size("num_attention_heads", ConfigLimits.Heads);
        int kvHeads = c.Size("num_key_value_heads", ConfigLimits.Heads, fallback: heads);
        c.RequireAtMost("num_key_value_heads", kvHeads, "num_attention_heads", heads);
        c.RequireMultiple("num_attention_heads", heads, "num_key_value_heads", kvHeads);
        int headDim;
        if (c.OptionalSize("head_dim", ConfigLimits.HeadDim) is int given)
        {
            headDim = given;
            c.RequireEven("head_dim", headDim, "RoPE rotates pairs of dimensions");
        }
        else
        {
            c.RequireMultiple("hidden_size", hidden, "num_attention_heads", heads);
            headDim = hidden / heads;
            c.RequireEven("hidden_size / num_attention_heads", headDim, "it is the head dimension, and RoPE rotates pairs of dimensions");
        }
        bool moe = type == "qwen3_moe";
        int experts = 0, perToken = 0, moeIntermediate = 0;
        if (moe)
        {
            var mlpOnly = c.Get("mlp_only_layers");
            if (mlpOnly is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0)
                throw c.Unsupported("mlp_only_layers (dense layers in a Qwen3-MoE) is not supported.");
            int step = c.GetOptionalInt("decoder_sparse_step") ?? 1;
            if (step != 1)
                throw c.Unsupported($"decoder_sparse_step {step} is not supported (1).");
            string expertsKey = c.Get("num_experts") is not null ? "num_experts" : "num_local_experts";
            experts = c.Size(expertsKey, ConfigLimits.Experts);
            perToken = c.Size("num_experts_per_tok", ConfigLimits.Experts);
            c.RequireAtMost("num_experts_per_tok", perToken, expertsKey, experts);
            moeIntermediate = c.Size("moe_intermediate_size", ConfigLimits.IntermediateSize);
        }
        var config = new DecoderConfig
        {
            ModelType = type,
            VocabSize = c.Size("vocab_size", ConfigLimits.VocabSize),
            HiddenSize = hidden,
            // A Qwen3-MoE has no dense MLP: its intermediate_size is unused.
            IntermediateSize = moe ? 0 : c.Size("intermediate_size", ConfigLimits.IntermediateSize),
            Layers = c.Size("num_hidden_layers", ConfigLimits.Layers),
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = c.PositiveNumber("rms_norm_eps", 1e-6),
            AttentionBias = c.GetBool("attention_bias", false),
            MlpBias = c.GetBool("mlp_bias", false),
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", false),
            QkNorm = moe,
            Experts = experts,
            ExpertsPerToken = perToken,
            MoeIntermediateSize = moeIntermediate,
            NormTopkProb = c.GetBool("norm_topk_prob", false),
            HiddenAct = act,
            // RoPE runs past it, but the model was not trained there: callers bound prompts by it (0: not given).
            MaxPositions = c.OptionalSize("max_position_embeddings", ConfigLimits.Positions) ?? 0,
        };
        return config with { RopeTheta = RopeThetaOf(c), RopeScaling = RopeScalingOf(c) };
    }

    private static DecoderConfig Gpt2(ConfigReader c)
    {
        string act = c.GetString("activation_function", "gelu_new");
        if (act != "gelu_new")
            throw c.Unsupported($"activation_function '{act}' is not supported (gelu_new).");
        if (c.GetBool("scale_attn_by_inverse_layer_idx", false) || c.GetBool("reorder_and_upcast_attn", false))
            throw c.Unsupported("scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported.");
        if (!c.GetBool("scale_attn_weights", true))
            throw c.Unsupported("scale_attn_weights false is not supported.");
        int hidden = c.Size("n_embd", ConfigLimits.HiddenSize);
        int heads = c.Size("n_head", ConfigLimits.Heads);
        c.RequireMultiple("n_embd", hidden, "n_head", heads);
        return new DecoderConfig
        {
            ModelType = "gpt2",
            VocabSize = c.Size("vocab_size", ConfigLimits.VocabSize),
            HiddenSize = hidden,
            IntermediateSize = c.Size("n_inner", ConfigLimits.IntermediateSize, fallback: 4 * hidden),
            Layers = c.Size("n_layer", ConfigLimits.Layers),
            Heads = heads,
            KvHeads = heads,
            HeadDim = hidden / heads,
            MaxPositions = c.Size("n_positions", ConfigLimits.Positions),
            LayerNormEps = c.PositiveNumber("layer_norm_epsilon", 1e-5),
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", true),
            HiddenAct = act,
        };
    }

    /// <summary>transformers 5 writes "rope_parameters": {"rope_theta", "rope_type", ...}; older configs "rope_theta"
    /// and "rope_scaling". Returns the object and its key.</summary>
    private static (JsonElement Value, string Key)? RopeParameters(ConfigReader c) =>
        c.Get("rope_parameters") is { ValueKind: JsonValueKind.Object } p ? (p, "rope_parameters")
        : c.Get("rope_scaling") is { ValueKind: JsonValueKind.Object } s ? (s, "rope_scaling") : null;

    private static double RopeThetaOf(ConfigReader c)
    {
        if (c.Get("rope_theta") is not null) return c.PositiveNumber("rope_theta", 10000.0);
        if (RopeParameters(c) is { } p && p.Value.TryGetProperty("rope_theta", out _)) return c.PositiveNumber(p.Key + ".rope_theta", 10000.0);
        return 10000.0;
    }

    private static Llama3RopeScaling? RopeScalingOf(ConfigReader c)
    {
        if (RopeParameters(c) is not { } p) return null;
        string type = c.GetString(p.Key + ".rope_type", c.GetString(p.Key + ".type", "default"));
        if (type == "default") return null;
        if (type != "llama3")
            throw c.Unsupported($"rope type '{type}' is not supported (default, llama3).");
        double Number(string key) => c.Get(p.Key + "." + key) is not null
            ? c.PositiveNumber(p.Key + "." + key, 1)
            : throw c.Unsupported($"the llama3 rope parameters lack '{key}'.");
        double low = Number("low_freq_factor"), high = Number("high_freq_factor");
        // The band between the two is interpolated over high - low: equal factors would divide by zero.
        if (!(high > low))
            throw c.Invalid(p.Key + ".high_freq_factor", high.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                $"it must be larger than low_freq_factor ({low.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})");
        return new Llama3RopeScaling(Number("factor"), low, high, c.Size(p.Key + ".original_max_position_embeddings", ConfigLimits.Positions));
    }
}
