using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Decoders;

/// <summary>The pieces the families' config readers are composed of (<see cref="DecoderFamilies"/>): the LLaMA
/// layout's keys, RoPE parameters, sliding windows, experts, and GPT-2's keys. Every problem is a one-line
/// <see cref="CheckpointException"/> naming the file and the key.</summary>
public static partial class DecoderConfigReading
{
    /// <summary>The LLaMA layout's keys: sizes, heads (grouped), head_dim, rms_norm_eps, biases, tied embeddings,
    /// RoPE (theta and scaling), max_position_embeddings; the activation must be one of <paramref name="activations"/>
    /// (read from hidden_activation, then hidden_act).</summary>
    public static DecoderConfig Llama(ConfigReader c, string modelType, params string[] activations)
    {
        if (activations.Length == 0) activations = new[] { "silu" };
        string act = c.GetString("hidden_activation", c.GetString("hidden_act", activations[0]));
        if (!activations.Contains(act))
            throw c.Unsupported($"hidden_act '{act}' is not supported for {modelType} ({string.Join(", ", activations)}).");
        if (c.GetOptionalDouble("partial_rotary_factor") is double partial && partial != 1.0)
            throw c.Unsupported($"partial_rotary_factor {partial.ToString("R", CultureInfo.InvariantCulture)} is not supported (1).");
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
        var config = new DecoderConfig
        {
            ModelType = modelType,
            VocabSize = c.Size("vocab_size", ConfigLimits.VocabSize),
            HiddenSize = hidden,
            IntermediateSize = c.Size("intermediate_size", ConfigLimits.IntermediateSize),
            Layers = c.Size("num_hidden_layers", ConfigLimits.Layers),
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            RmsNormEps = c.PositiveNumber("rms_norm_eps", 1e-6),
            AttentionBias = c.GetBool("attention_bias", false),
            MlpBias = c.GetBool("mlp_bias", false),
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", false),
            HiddenAct = act,
            // RoPE runs past it, but the model was not trained there: callers bound prompts by it (0: not given).
            MaxPositions = c.OptionalSize("max_position_embeddings", ConfigLimits.Positions) ?? 0,
        };
        var rope = RopeSection(c, "full_attention");
        return config with { RopeTheta = RopeTheta(c, rope), RopeScaling = RopeScalingOf(c, rope, config.MaxPositions, headDim) };
    }

    /// <summary>A sparse mixture of experts in every layer: num_experts (or num_local_experts), num_experts_per_tok,
    /// the experts' size from <paramref name="sizeKey"/>; the top-k weights renormalised when
    /// <paramref name="renormalise"/> is null and norm_topk_prob says so, or as it says.</summary>
    public static DecoderConfig Experts(ConfigReader c, DecoderConfig config, string sizeKey, bool? renormalise = null)
    {
        var mlpOnly = c.Get("mlp_only_layers");
        if (mlpOnly is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0)
            throw c.Unsupported("mlp_only_layers (dense layers in a mixture-of-experts model) is not supported.");
        int step = c.GetOptionalInt("decoder_sparse_step") ?? 1;
        if (step != 1)
            throw c.Unsupported($"decoder_sparse_step {step} is not supported (1).");
        string expertsKey = c.Get("num_experts") is not null ? "num_experts" : "num_local_experts";
        int experts = c.Size(expertsKey, ConfigLimits.Experts);
        int perToken = c.Size("num_experts_per_tok", ConfigLimits.Experts);
        c.RequireAtMost("num_experts_per_tok", perToken, expertsKey, experts);
        int size = c.Size(sizeKey, ConfigLimits.IntermediateSize);
        return config with
        {
            // The experts replace the dense MLP.
            IntermediateSize = 0,
            Experts = experts,
            ExpertsPerToken = perToken,
            MoeIntermediateSize = size,
            NormTopkProb = renormalise ?? c.GetBool("norm_topk_prob", false),
        };
    }

    /// <summary>Mistral, Mixtral, Phi-3: sliding_window (when set) applies to every layer, unless layer_types says
    /// which.</summary>
    public static DecoderConfig SlidingEveryLayer(ConfigReader c, DecoderConfig config) =>
        c.Get("sliding_window") is null ? config : WithLayerTypes(c, config, _ => true);

    /// <summary>Qwen2/Qwen3: the sliding window is used only with use_sliding_window, on the layers layer_types names
    /// (or from max_window_layers on); without it every layer attends fully.</summary>
    public static DecoderConfig QwenSliding(ConfigReader c, DecoderConfig config)
    {
        if (!c.GetBool("use_sliding_window", false)) return config;
        int from = c.GetOptionalInt("max_window_layers") ?? config.Layers;
        return WithLayerTypes(c, config, layer => layer >= from);
    }

    /// <summary>Gemma: sliding-window and full layers alternate; layer_types says which, else every
    /// <paramref name="pattern"/>-th layer (1-based) is full (sliding_window_pattern overrides it).</summary>
    public static DecoderConfig AlternatingSliding(ConfigReader c, DecoderConfig config, int pattern, int? defaultWindow = null)
    {
        int every = c.GetOptionalInt("sliding_window_pattern") ?? pattern;
        if (every < 1) throw c.Invalid("sliding_window_pattern", every.ToString(CultureInfo.InvariantCulture), "it must be at least 1");
        return WithLayerTypes(c, config, layer => (layer + 1) % every != 0, defaultWindow);
    }

    /// <summary>sliding_window and, per layer, "sliding_attention" or "full_attention" from layer_types (transformers 5
    /// writes it) or <paramref name="sliding"/> when it is absent.</summary>
    private static DecoderConfig WithLayerTypes(ConfigReader c, DecoderConfig config, Func<int, bool> sliding, int? defaultWindow = null)
    {
        int window = defaultWindow is int fallback ? c.Size("sliding_window", ConfigLimits.Positions, fallback) : c.Size("sliding_window", ConfigLimits.Positions);
        var layers = new bool[config.Layers];
        if (c.Get("layer_types") is { } types)
        {
            if (types.ValueKind != JsonValueKind.Array || types.GetArrayLength() != config.Layers)
                throw c.Invalid("layer_types", types.GetRawText().Length > 80 ? "a list of another length" : types.GetRawText(),
                    $"it must list one type per layer ({config.Layers})");
            int i = 0;
            foreach (var type in types.EnumerateArray())
            {
                string name = type.ValueKind == JsonValueKind.String ? type.GetString()! : type.GetRawText();
                layers[i++] = name switch
                {
                    "sliding_attention" => true,
                    "full_attention" => false,
                    _ => throw c.Unsupported($"layer_types[{i}] '{name}' is not supported (sliding_attention, full_attention)."),
                };
            }
        }
        else
            for (int i = 0; i < layers.Length; i++) layers[i] = sliding(i);
        return config with { SlidingWindow = window, SlidingLayers = layers };
    }

    /// <summary>transformers 5 writes "rope_parameters": {"rope_theta", "rope_type", ...} (Gemma 3: one such object per
    /// layer type, under "full_attention" and "sliding_attention"); older configs "rope_theta" and "rope_scaling".
    /// Returns the object that holds the parameters for <paramref name="layerType"/> and its key, or null.</summary>
    public static (JsonElement Value, string Key)? RopeSection(ConfigReader c, string layerType)
    {
        if (c.Get("rope_parameters") is { ValueKind: JsonValueKind.Object } p)
            return c.Get("rope_parameters." + layerType) is { ValueKind: JsonValueKind.Object } typed
                ? (typed, "rope_parameters." + layerType) : (p, "rope_parameters");
        return c.Get("rope_scaling") is { ValueKind: JsonValueKind.Object } s ? (s, "rope_scaling") : null;
    }

    /// <summary>rope_theta at the top level, else in the section, else 10000.</summary>
    public static double RopeTheta(ConfigReader c, (JsonElement Value, string Key)? section)
    {
        if (c.Get("rope_theta") is not null) return c.PositiveNumber("rope_theta", 10000.0);
        if (section is { } p && p.Value.TryGetProperty("rope_theta", out _)) return c.PositiveNumber(p.Key + ".rope_theta", 10000.0);
        return 10000.0;
    }

    /// <summary>The section's scaling: default (null), linear, llama3 or longrope (su).</summary>
    public static RopeScaling? RopeScalingOf(ConfigReader c, (JsonElement Value, string Key)? section, int maxPositions, int headDim)
    {
        if (section is not { } p) return null;
        string type = c.GetString(p.Key + ".rope_type", c.GetString(p.Key + ".type", "default"));
        double Number(string key) => c.Get(p.Key + "." + key) is not null
            ? c.PositiveNumber(p.Key + "." + key, 1)
            : throw c.Unsupported($"the {type} rope parameters lack '{key}'.");
        switch (type)
        {
            case "default":
                return null;
            case "linear":
                return new LinearRopeScaling(Number("factor"));
            case "llama3":
            {
                double low = Number("low_freq_factor"), high = Number("high_freq_factor");
                // The band between the two is interpolated over high - low: equal factors would divide by zero.
                if (!(high > low))
                    throw c.Invalid(p.Key + ".high_freq_factor", high.ToString("R", CultureInfo.InvariantCulture),
                        $"it must be larger than low_freq_factor ({low.ToString("R", CultureInfo.InvariantCulture)})");
                return new Llama3RopeScaling(Number("factor"), low, high, c.Size(p.Key + ".original_max_position_embeddings", ConfigLimits.Positions));
            }
            case "longrope" or "su":
                return LongRope(c, p.Key, maxPositions, headDim);
            default:
                throw c.Unsupported($"rope type '{type}' is not supported (default, linear, llama3, longrope).");
        }
    }

    /// <summary>Phi-3's longrope, as Hugging Face computes it: the attention factor is given, or
    /// sqrt(1 + ln(s) / ln(original)) for s = max_position_embeddings / original_max_position_embeddings (1 when s &lt;= 1).</summary>
    private static LongRopeScaling LongRope(ConfigReader c, string key, int maxPositions, int headDim)
    {
        IReadOnlyList<double> Factors(string name)
        {
            string full = key + "." + name;
            if (c.Get(full) is not { ValueKind: JsonValueKind.Array } list)
                throw c.Unsupported($"the longrope parameters lack '{name}' (a list of {headDim / 2} numbers).");
            var values = list.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToList();
            if (values.Count != headDim / 2 || values.Any(v => !(v > 0) || double.IsInfinity(v)))
                throw c.Invalid(full, $"a list of {values.Count} values", $"it must list {headDim / 2} positive numbers (head_dim / 2)");
            return values;
        }
        var shortFactor = Factors("short_factor");
        var longFactor = Factors("long_factor");
        string originalKey = c.Get("original_max_position_embeddings") is not null ? "original_max_position_embeddings" : key + ".original_max_position_embeddings";
        int? original = c.OptionalSize(originalKey, ConfigLimits.Positions);
        double factor = original is int o && maxPositions > 0 ? (double)maxPositions / o
            : c.GetOptionalDouble(key + ".factor") ?? 1.0;
        int originalPositions = original ?? maxPositions;
        double attention = c.Get(key + ".attention_factor") is not null
            ? c.PositiveNumber(key + ".attention_factor", 1)
            : factor <= 1 ? 1.0 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(originalPositions));
        return new LongRopeScaling(shortFactor, longFactor, originalPositions, attention);
    }
}
