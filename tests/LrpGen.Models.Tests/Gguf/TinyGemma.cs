using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json.Nodes;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>A small random Gemma 2 or Gemma 3 (text) written as a Hugging Face folder, with the config keys the released
/// checkpoints use. Row lengths are multiples of 256 (llama.cpp's K-quants); head_dim (128) differs from
/// hidden / heads (64), so that the attention scale llama.cpp derives is checked; the window (16 tokens) is far shorter
/// than the test sequences, so that it takes effect. Gemma 2 has 2 layers (sliding, full), Gemma 3 6 (five sliding
/// with RoPE base 10000, one full with 1e6 and linear scaling by 8). The output is the tied embeddings, as in every Gemma; the post-norms
/// scale each block's output to about half the embeddings' size, so that most positions have a clear next-token winner
/// under the final soft-cap (near-ties would make argmax agreement measure rounding only).</summary>
internal static class TinyGemma
{
    public const int Vocab = 384, Hidden = 256, Intermediate = 512, Heads = 4, KvHeads = 2, HeadDim = 128, Window = 16;

    public static int Layers(string modelType) => modelType == "gemma2" ? 2 : 6;

    public static JsonObject Config(string modelType)
    {
        bool gemma2 = modelType == "gemma2";
        var config = new JsonObject
        {
            ["model_type"] = modelType,
            ["vocab_size"] = Vocab,
            ["hidden_size"] = Hidden,
            ["intermediate_size"] = Intermediate,
            ["num_hidden_layers"] = Layers(modelType),
            ["num_attention_heads"] = Heads,
            ["num_key_value_heads"] = KvHeads,
            ["head_dim"] = HeadDim,
            ["rms_norm_eps"] = 1e-6,
            ["max_position_embeddings"] = 256,
            ["hidden_activation"] = "gelu_pytorch_tanh",
            ["query_pre_attn_scalar"] = HeadDim,
            ["sliding_window"] = Window,
            ["tie_word_embeddings"] = true,
            ["rope_theta"] = gemma2 ? 10000.0 : 1e6,
        };
        if (gemma2)
        {
            // Smaller caps than the released 50 and 30, so that the tanh bends the scores and logits seen here.
            config["attn_logit_softcapping"] = 5.0;
            config["final_logit_softcapping"] = 15.0;
        }
        else
        {
            config["rope_local_base_freq"] = 10000.0;
            // As Gemma 3 4B and larger: linear scaling of the full layers' RoPE (the sliding-window layers' is unscaled).
            config["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0 };
            config["sliding_window_pattern"] = 6;
            config["attn_logit_softcapping"] = null;
            config["final_logit_softcapping"] = null;
        }
        return config;
    }

    /// <summary>Writes the model to <paramref name="folder"/>; <paramref name="edit"/> changes config.json first.</summary>
    public static void Write(string folder, string modelType, long seed, Action<JsonObject>? edit = null)
    {
        Directory.CreateDirectory(folder);
        var config = Config(modelType);
        edit?.Invoke(config);
        File.WriteAllText(Path.Combine(folder, CheckpointFolder.ConfigFileName), config.ToJsonString());

        // A generator of its own: tests running in parallel draw from the global one, which would make the weights
        // (and the same-weights comparisons of the tests) depend on timing.
        using var generator = new torch.Generator((ulong)seed);
        Tensor Randn(double scale, params long[] shape) => torch.randn(shape, generator: generator).mul(scale);
        // Gemma scales by (1 + w): w near 0 is a neutral norm, near -0.5 halves its output.
        Tensor Norm(long size, double centre) => Randn(0.1, size).add(centre);
        var tensors = new Dictionary<string, Tensor>
        {
            ["model.embed_tokens.weight"] = Randn(0.1, Vocab, Hidden),
            ["model.norm.weight"] = Norm(Hidden, 0),
        };
        for (int i = 0; i < Layers(modelType); i++)
        {
            string p = $"model.layers.{i}.";
            tensors[p + "input_layernorm.weight"] = Norm(Hidden, 0);
            tensors[p + "post_attention_layernorm.weight"] = Norm(Hidden, -0.5);
            tensors[p + "pre_feedforward_layernorm.weight"] = Norm(Hidden, 0);
            tensors[p + "post_feedforward_layernorm.weight"] = Norm(Hidden, -0.5);
            tensors[p + "self_attn.q_proj.weight"] = Randn(0.15, Heads * HeadDim, Hidden);
            tensors[p + "self_attn.k_proj.weight"] = Randn(0.15, KvHeads * HeadDim, Hidden);
            tensors[p + "self_attn.v_proj.weight"] = Randn(0.06, KvHeads * HeadDim, Hidden);
            tensors[p + "self_attn.o_proj.weight"] = Randn(0.04, Hidden, Heads * HeadDim);
            if (modelType != "gemma2")
            {
                tensors[p + "self_attn.q_norm.weight"] = Norm(HeadDim, 0);
                tensors[p + "self_attn.k_norm.weight"] = Norm(HeadDim, 0);
            }
            tensors[p + "mlp.gate_proj.weight"] = Randn(0.08, Intermediate, Hidden);
            tensors[p + "mlp.up_proj.weight"] = Randn(0.08, Intermediate, Hidden);
            tensors[p + "mlp.down_proj.weight"] = Randn(0.05, Hidden, Intermediate);
        }
        SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }
}
