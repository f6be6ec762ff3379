using System.Collections.Generic;
using System.IO;
using System.Text.Json.Nodes;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>A small random LLaMA written as a Hugging Face folder. Sizes are multiples of 256 so that llama.cpp's
/// K-quants (Q4_K, Q5_K, Q6_K: 256-value super-blocks along each row) apply to every matrix. The output head leans
/// toward the current token's embedding, so that most positions have a clear next-token winner as a trained model's
/// do (a purely random head has near-ties that any rounding flips, and argmax agreement would measure only those).</summary>
internal static class TinyLlama
{
    public const int Vocab = 384, Hidden = 256, Intermediate = 512, Layers = 2, Heads = 4, KvHeads = 2;

    /// <summary>The LLaMA (or, with <paramref name="modelType"/>, a family of the same shape: qwen2 takes
    /// <paramref name="qkvBias"/>, qwen3 <paramref name="qkNorm"/>) written to <paramref name="folder"/>.
    /// <paramref name="attentionBias"/> gives q, k, v and o biases (LLaMA's attention_bias), <paramref name="qkvBias"/>
    /// q, k and v only.</summary>
    public static void Write(string folder, long seed, bool tied = false, bool attentionBias = false,
        string modelType = "llama", bool qkvBias = false, bool qkNorm = false, int? slidingWindow = null)
    {
        Directory.CreateDirectory(folder);
        var config = new JsonObject
        {
            ["model_type"] = modelType,
            ["vocab_size"] = Vocab,
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 256,
            ["tie_word_embeddings"] = tied,
            ["attention_bias"] = attentionBias,
            ["hidden_act"] = "silu",
            ["head_dim"] = Hidden / Heads,
        };
        if (slidingWindow is { } window) config["sliding_window"] = window;
        File.WriteAllText(Path.Combine(folder, CheckpointFolder.ConfigFileName), config.ToJsonString());

        // A generator of its own (same stream as manual_seed(seed)): tests running in parallel draw from the global one.
        using var generator = new torch.Generator((ulong)seed);
        Tensor Randn(double scale, params long[] shape) => torch.randn(shape, generator: generator).mul(scale);
        Tensor Norm(long size) => torch.ones(size).add(Randn(0.1, size));
        int headDim = Hidden / Heads;
        var embeddings = Randn(1.0, Vocab, Hidden);
        var tensors = new Dictionary<string, Tensor>
        {
            ["model.embed_tokens.weight"] = embeddings,
            ["model.norm.weight"] = Norm(Hidden),
        };
        if (!tied) tensors["lm_head.weight"] = embeddings.mul(0.1).add(Randn(0.15, Vocab, Hidden));
        for (int i = 0; i < Layers; i++)
        {
            string p = $"model.layers.{i}.";
            tensors[p + "input_layernorm.weight"] = Norm(Hidden);
            tensors[p + "post_attention_layernorm.weight"] = Norm(Hidden);
            tensors[p + "self_attn.q_proj.weight"] = Randn(0.12, Heads * headDim, Hidden);
            tensors[p + "self_attn.k_proj.weight"] = Randn(0.12, KvHeads * headDim, Hidden);
            tensors[p + "self_attn.v_proj.weight"] = Randn(0.05, KvHeads * headDim, Hidden);
            tensors[p + "self_attn.o_proj.weight"] = Randn(0.05, Hidden, Heads * headDim);
            if (qkNorm)
            {
                tensors[p + "self_attn.q_norm.weight"] = Norm(headDim);
                tensors[p + "self_attn.k_norm.weight"] = Norm(headDim);
            }
            if (qkvBias)
            {
                tensors[p + "self_attn.q_proj.bias"] = Randn(0.3, Heads * headDim);
                tensors[p + "self_attn.k_proj.bias"] = Randn(0.3, KvHeads * headDim);
                tensors[p + "self_attn.v_proj.bias"] = Randn(0.1, KvHeads * headDim);
            }
            if (attentionBias)
            {
                tensors[p + "self_attn.q_proj.bias"] = Randn(0.3, Heads * headDim);
                tensors[p + "self_attn.k_proj.bias"] = Randn(0.3, KvHeads * headDim);
                tensors[p + "self_attn.v_proj.bias"] = Randn(0.1, KvHeads * headDim);
                tensors[p + "self_attn.o_proj.bias"] = Randn(0.1, Hidden);
            }
            tensors[p + "mlp.gate_proj.weight"] = Randn(0.06, Intermediate, Hidden);
            tensors[p + "mlp.up_proj.weight"] = Randn(0.06, Intermediate, Hidden);
            tensors[p + "mlp.down_proj.weight"] = Randn(0.04, Hidden, Intermediate);
        }
        SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }
}
