using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;

namespace LrpGen.Models.Gguf;

/// <summary>The GGUF architectures that load as Hugging Face families, one table each (llama.cpp's tensor and key
/// names, src/llama-arch.cpp). A family that the decoders support and GGUF stores differently only by names is one
/// more entry here.</summary>
public static class GgufArchitectures
{
    private static readonly GgufConfigKey[] DecoderKeys =
    {
        new("context_length", "max_position_embeddings", IsInteger: true, Required: false),
        new("embedding_length", "hidden_size", IsInteger: true, Required: true),
        new("block_count", "num_hidden_layers", IsInteger: true, Required: true),
        new("attention.head_count", "num_attention_heads", IsInteger: true, Required: true),
        new("attention.head_count_kv", "num_key_value_heads", IsInteger: true, Required: false),
        new("attention.key_length", "head_dim", IsInteger: true, Required: false),
        new("attention.layer_norm_rms_epsilon", "rms_norm_eps", IsInteger: false, Required: true),
        new("rope.freq_base", "rope_theta", IsInteger: false, Required: false),
    };

    // Static initializers run in textual order: this stays after DecoderKeys and before the tables.
    private static readonly GgufConfigKey[] DenseDecoderKeys =
        DecoderKeys.Append(new("feed_forward_length", "intermediate_size", IsInteger: true, Required: true)).ToArray();

    private static readonly Dictionary<string, string> DecoderGlobals = new()
    {
        ["token_embd.weight"] = "model.embed_tokens.weight",
        ["output_norm.weight"] = "model.norm.weight",
        ["output.weight"] = "lm_head.weight",
    };

    private static readonly Dictionary<string, string> AttentionBlock = new()
    {
        ["attn_norm.weight"] = "input_layernorm.weight",
        ["attn_q.weight"] = "self_attn.q_proj.weight",
        ["attn_k.weight"] = "self_attn.k_proj.weight",
        ["attn_v.weight"] = "self_attn.v_proj.weight",
        ["attn_output.weight"] = "self_attn.o_proj.weight",
        ["attn_q.bias"] = "self_attn.q_proj.bias",
        ["attn_k.bias"] = "self_attn.k_proj.bias",
        ["attn_v.bias"] = "self_attn.v_proj.bias",
        ["attn_output.bias"] = "self_attn.o_proj.bias",
        ["ffn_norm.weight"] = "post_attention_layernorm.weight",
    };

    private static readonly Dictionary<string, string> DenseMlp = new()
    {
        ["ffn_gate.weight"] = "mlp.gate_proj.weight",
        ["ffn_up.weight"] = "mlp.up_proj.weight",
        ["ffn_down.weight"] = "mlp.down_proj.weight",
        ["ffn_gate.bias"] = "mlp.gate_proj.bias",
        ["ffn_up.bias"] = "mlp.up_proj.bias",
        ["ffn_down.bias"] = "mlp.down_proj.bias",
    };

    private static readonly Dictionary<string, string> QkNorms = new()
    {
        ["attn_q_norm.weight"] = "self_attn.q_norm.weight",
        ["attn_k_norm.weight"] = "self_attn.k_norm.weight",
    };

    private static readonly string[] AttentionTensors =
        { "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_norm.weight" };

    private static string[][] Required(string[] attention, params string[] mlp) =>
        attention.Concat(mlp).Select(t => new[] { t }).ToArray();

    private static Dictionary<string, string> Merge(params Dictionary<string, string>[] parts) =>
        parts.SelectMany(p => p).ToDictionary(p => p.Key, p => p.Value);

    /// <summary>LLaMA: convert_hf_to_gguf permutes the rows of q and k (per head, from rotate-half to interleaved pairs).</summary>
    public static GgufArchitecture Llama { get; } = new(
        "llama", "llama",
        DenseDecoderKeys,
        DecoderGlobals,
        Merge(AttentionBlock, DenseMlp),
        new Dictionary<string, string>
        {
            ["attn_q.weight"] = "num_attention_heads", ["attn_q.bias"] = "num_attention_heads",
            ["attn_k.weight"] = "num_key_value_heads", ["attn_k.bias"] = "num_key_value_heads",
        },
        new Dictionary<string, string>(),
        new Dictionary<string, object> { ["hidden_act"] = "silu" })
    {
        RequiredPerBlock = Required(AttentionTensors, "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"),
        RequiredGlobals = new[] { "output_norm.weight" },
    };

    /// <summary>Mixtral: llama.cpp stores it as "llama" with <c>llama.expert_count</c> (which picks this table), the
    /// LLaMA family's permuted q/k rows, a router (ffn_gate_inp) and the experts stacked per block; its graph routes
    /// by softmax over all experts, then the top-k renormalised (Mixtral's rule). feed_forward_length is the experts'
    /// size. The Hugging Face names are the LLaMA layout's; the Hub's block_sparse_moe names convert as aliases.</summary>
    public static GgufArchitecture Mixtral { get; } = new(
        "llama", "mixtral",
        DecoderKeys.Concat(new GgufConfigKey[]
        {
            new("feed_forward_length", "intermediate_size", IsInteger: true, Required: true),
            new("expert_count", "num_local_experts", IsInteger: true, Required: true),
            new("expert_used_count", "num_experts_per_tok", IsInteger: true, Required: true),
        }).ToArray(),
        DecoderGlobals,
        Merge(AttentionBlock, new Dictionary<string, string> { ["ffn_gate_inp.weight"] = "mlp.gate.weight" }),
        Llama.RopePermuted,
        new Dictionary<string, string>
        {
            ["ffn_gate_exps.weight"] = "mlp.experts.{0}.gate_proj.weight",
            ["ffn_up_exps.weight"] = "mlp.experts.{0}.up_proj.weight",
            ["ffn_down_exps.weight"] = "mlp.experts.{0}.down_proj.weight",
        },
        new Dictionary<string, object> { ["hidden_act"] = "silu" })
    {
        SelectedBy = "expert_count",
        RequiredPerBlock = Required(AttentionTensors, "ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"),
        RequiredGlobals = new[] { "output_norm.weight" },
        HfAliases = new Dictionary<string, string>
        {
            ["block_sparse_moe.gate.weight"] = "mlp.gate.weight",
            ["block_sparse_moe.experts.{0}.w1.weight"] = "mlp.experts.{0}.gate_proj.weight",
            ["block_sparse_moe.experts.{0}.w3.weight"] = "mlp.experts.{0}.up_proj.weight",
            ["block_sparse_moe.experts.{0}.w2.weight"] = "mlp.experts.{0}.down_proj.weight",
        },
    };

    /// <summary>Phi-3: fused attn_qkv (q rows, then k, then v: Hugging Face's qkv_proj as it is) and a fused ffn_up
    /// (gate rows, then up: gate_up_proj), NeoX rotation (no row permutation), and longrope as two global factor
    /// tensors with the attention factor and original context in metadata. llama.cpp disables Phi-3's sliding window
    /// (phi3.attention.sliding_window is read and dropped), so the key is not read here either.</summary>
    public static GgufArchitecture Phi3 { get; } = new(
        "phi3", "phi3",
        DenseDecoderKeys.Append(new("rope.scaling.original_context_length", "original_max_position_embeddings", IsInteger: true, Required: false)).ToArray(),
        DecoderGlobals,
        new Dictionary<string, string>
        {
            ["attn_norm.weight"] = "input_layernorm.weight",
            ["attn_qkv.weight"] = "self_attn.qkv_proj.weight",
            ["attn_output.weight"] = "self_attn.o_proj.weight",
            ["ffn_norm.weight"] = "post_attention_layernorm.weight",
            ["ffn_up.weight"] = "mlp.gate_up_proj.weight",
            ["ffn_down.weight"] = "mlp.down_proj.weight",
        },
        new Dictionary<string, string>(),
        new Dictionary<string, string>(),
        new Dictionary<string, object> { ["hidden_act"] = "silu" })
    {
        RequiredPerBlock = Required(new[] { "attn_norm.weight", "attn_qkv.weight", "attn_output.weight", "ffn_norm.weight" }, "ffn_up.weight", "ffn_down.weight"),
        RequiredGlobals = new[] { "output_norm.weight" },
        LongRope = true,
    };

    /// <summary>Qwen2: LLaMA's tensors with q/k/v biases (the attention block's optional biases), no row permutation
    /// (llama.cpp rotates qwen2 NeoX-style, as Hugging Face does). Its q/k/v biases are the family's own, not LLaMA's
    /// attention_bias (which would add an o bias), so that key is fixed to false.</summary>
    public static GgufArchitecture Qwen2 { get; } = new(
        "qwen2", "qwen2",
        DenseDecoderKeys,
        DecoderGlobals,
        Merge(AttentionBlock, DenseMlp),
        new Dictionary<string, string>(),
        new Dictionary<string, string>(),
        new Dictionary<string, object> { ["hidden_act"] = "silu", ["attention_bias"] = false });

    /// <summary>Qwen3: Qwen2 without biases and with a per-head RMSNorm of q and k (attn_q_norm, attn_k_norm); NeoX
    /// rotation, no row permutation.</summary>
    public static GgufArchitecture Qwen3 { get; } = new(
        "qwen3", "qwen3",
        DenseDecoderKeys,
        DecoderGlobals,
        Merge(AttentionBlock, DenseMlp, QkNorms),
        new Dictionary<string, string>(),
        new Dictionary<string, string>(),
        new Dictionary<string, object> { ["hidden_act"] = "silu" });

    /// <summary>Qwen3-MoE: no row permutation (llama.cpp rotates it NeoX-style, as Hugging Face does), q/k RMSNorm,
    /// a router and the experts stacked per block; llama.cpp always renormalises the top-k routing weights.</summary>
    public static GgufArchitecture Qwen3Moe { get; } = new(
        "qwen3moe", "qwen3_moe",
        DecoderKeys.Concat(new GgufConfigKey[]
        {
            new("feed_forward_length", "intermediate_size", IsInteger: true, Required: false),
            new("expert_count", "num_experts", IsInteger: true, Required: true),
            new("expert_used_count", "num_experts_per_tok", IsInteger: true, Required: true),
            new("expert_feed_forward_length", "moe_intermediate_size", IsInteger: true, Required: true),
        }).ToArray(),
        DecoderGlobals,
        Merge(AttentionBlock, QkNorms, new Dictionary<string, string>
        {
            ["ffn_gate_inp.weight"] = "mlp.gate.weight",
        }),
        new Dictionary<string, string>(),
        new Dictionary<string, string>
        {
            ["ffn_gate_exps.weight"] = "mlp.experts.{0}.gate_proj.weight",
            ["ffn_up_exps.weight"] = "mlp.experts.{0}.up_proj.weight",
            ["ffn_down_exps.weight"] = "mlp.experts.{0}.down_proj.weight",
        },
        new Dictionary<string, object> { ["hidden_act"] = "silu", ["norm_topk_prob"] = true });

    /// <summary>Gemma's block: a norm before and after both the attention and the MLP. llama.cpp names the norm before
    /// the MLP ffn_norm (LLaMA's post_attention_layernorm), the one after the attention post_attention_norm.</summary>
    private static readonly Dictionary<string, string> GemmaBlock = new()
    {
        ["attn_norm.weight"] = "input_layernorm.weight",
        ["attn_q.weight"] = "self_attn.q_proj.weight",
        ["attn_k.weight"] = "self_attn.k_proj.weight",
        ["attn_v.weight"] = "self_attn.v_proj.weight",
        ["attn_output.weight"] = "self_attn.o_proj.weight",
        ["post_attention_norm.weight"] = "post_attention_layernorm.weight",
        ["ffn_norm.weight"] = "pre_feedforward_layernorm.weight",
        ["ffn_gate.weight"] = "mlp.gate_proj.weight",
        ["ffn_up.weight"] = "mlp.up_proj.weight",
        ["ffn_down.weight"] = "mlp.down_proj.weight",
        ["post_ffw_norm.weight"] = "post_feedforward_layernorm.weight",
    };

    private static readonly GgufConfigKey SlidingWindow = new("attention.sliding_window", "sliding_window", IsInteger: true, Required: true);

    /// <summary>Every n-th layer full, the others sliding (llama.cpp reads it for gemma2 and gemma3; its converter
    /// leaves it out where it is the architecture's default).</summary>
    private static readonly GgufConfigKey SlidingWindowPattern = new("attention.sliding_window_pattern", "sliding_window_pattern", IsInteger: true, Required: false);

    /// <summary>llama.cpp does not read Gemma's query_pre_attn_scalar: it scales queries by head_dim^-1/2, except in the
    /// 27B models (told apart by their layer count), which take (hidden_size / heads)^-1/2 (integer division).</summary>
    private static Action<JsonObject> GemmaAttentionScale(int layersOf27B) => config =>
    {
        long hidden = config["hidden_size"]!.GetValue<long>(), heads = config["num_attention_heads"]!.GetValue<long>();
        long headDim = config["head_dim"]?.GetValue<long>() ?? hidden / heads;
        config["query_pre_attn_scalar"] = config["num_hidden_layers"]!.GetValue<long>() == layersOf27B ? hidden / heads : headDim;
    };

    /// <summary>Gemma 2: (1 + w) norms stored with the 1 added, NeoX rotation (no row permutation), GeGLU, the output
    /// always the token embeddings (llama.cpp reads no output.weight for gemma2), soft-capping of scores and logits,
    /// every other layer (the even ones) in the sliding window, one RoPE base for all layers.</summary>
    public static GgufArchitecture Gemma2 { get; } = new(
        "gemma2", "gemma2",
        DenseDecoderKeys.Concat(new GgufConfigKey[]
        {
            SlidingWindow,
            SlidingWindowPattern,
            new("attn_logit_softcapping", "attn_logit_softcapping", IsInteger: false, Required: true),
            new("final_logit_softcapping", "final_logit_softcapping", IsInteger: false, Required: true),
        }).ToArray(),
        DecoderGlobals.Where(g => g.Key != "output.weight").ToDictionary(g => g.Key, g => g.Value),
        GemmaBlock,
        new Dictionary<string, string>(),
        new Dictionary<string, string>(),
        new Dictionary<string, object> { ["hidden_activation"] = "gelu_pytorch_tanh", ["sliding_window_pattern"] = 2 })
    {
        NormShift = 1,
        DeriveConfig = GemmaAttentionScale(layersOf27B: 46),
        RequiredPerBlock = GemmaBlock.Keys.Select(k => new[] { k }).ToArray(),
        RequiredGlobals = new[] { "output_norm.weight" },
        UnsupportedKeys = new Dictionary<string, string>
        {
            ["rope.freq_base_swa"] = "a RoPE base of their own for the sliding-window layers, which Gemma 2 does not have",
        },
    };

    /// <summary>Gemma 3 (text): Gemma 2's layout with (1 + w) q/k norms and no attention soft-capping (llama.cpp's gemma3
    /// ignores it); unless the metadata says otherwise, every 6th layer is full and the sliding-window layers rotate
    /// with base 10000, unscaled.</summary>
    public static GgufArchitecture Gemma3 { get; } = new(
        "gemma3", "gemma3_text",
        DenseDecoderKeys.Concat(new GgufConfigKey[]
        {
            SlidingWindow,
            SlidingWindowPattern,
            new("rope.freq_base_swa", "rope_local_base_freq", IsInteger: false, Required: false),
            new("final_logit_softcapping", "final_logit_softcapping", IsInteger: false, Required: false),
        }).ToArray(),
        DecoderGlobals,
        Merge(GemmaBlock, QkNorms),
        new Dictionary<string, string>(),
        new Dictionary<string, string>(),
        new Dictionary<string, object>
        {
            ["hidden_activation"] = "gelu_pytorch_tanh", ["sliding_window_pattern"] = 6, ["rope_local_base_freq"] = 10000.0,
        })
    {
        NormShift = 1,
        DeriveConfig = GemmaAttentionScale(layersOf27B: 62),
        RequiredPerBlock = GemmaBlock.Keys.Concat(QkNorms.Keys).Select(k => new[] { k }).ToArray(),
        RequiredGlobals = new[] { "output_norm.weight" },
    };

    public static IReadOnlyList<GgufArchitecture> All { get; } = new[] { Llama, Mixtral, Qwen2, Qwen3, Qwen3Moe, Gemma2, Gemma3, Phi3 };

    /// <summary>The table for a file of GGUF architecture <paramref name="ggufArchitecture"/>: among the tables of that
    /// name, the one whose <see cref="GgufArchitecture.SelectedBy"/> key the metadata has with a positive value, else
    /// the plain one.</summary>
    public static GgufArchitecture? Find(string ggufArchitecture, IReadOnlyDictionary<string, GgufValue> metadata)
    {
        var named = All.Where(a => a.Name == ggufArchitecture).ToList();
        return named.FirstOrDefault(a => a.SelectedBy is { } key
                   && metadata.TryGetValue($"{a.Name}.{key}", out var v) && v.IsNumber && v.AsDouble() > 0)
               ?? named.FirstOrDefault(a => a.SelectedBy is null);
    }

    /// <summary>Hugging Face families that GGUF stores under another family's architecture. Mistral is "llama" in GGUF:
    /// llama.cpp's converter writes no sliding-window key for it and its llama graph attends to the whole context, so a
    /// Mistral GGUF loads as LLaMA without a window (the same model wherever the window covers the sequence).</summary>
    private static readonly Dictionary<string, GgufArchitecture> StoredAs = new() { ["mistral"] = Llama };

    public static GgufArchitecture? ForModelType(string modelType) =>
        All.FirstOrDefault(a => a.ModelType == modelType) ?? StoredAs.GetValueOrDefault(modelType);

    /// <summary>The model types the converter writes, for messages.</summary>
    public static IEnumerable<string> ConvertibleModelTypes => All.Select(a => a.ModelType).Concat(StoredAs.Keys);

    /// <summary>"llama, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3" for messages.</summary>
    public static string Names => string.Join(", ", All.Select(a => a.Name).Distinct());
}
