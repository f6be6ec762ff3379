using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>The tiny LLaMA (<see cref="TinyLlama"/>: sizes that are multiples of 256, a head with clear winners)
/// rewritten as the Hugging Face folder of another family with the same attention: Mixtral (the dense MLP replaced
/// by a router and experts, Hub names), Qwen3-MoE (the same with Qwen's names, per-head q/k norms and
/// renormalised top-k weights; rows of 256, which the golden Qwen3-MoE's 48-wide rows are not for Q8_0), Phi-3 (q/k/v and gate/up fused, longrope) and Llama 3.1 (llama3 RoPE
/// scaling). Everything here is how those families' config.json and checkpoints look, test-side.</summary>
internal static class TinyLlamaVariants
{
    public const int Experts = 4, ExpertsPerToken = 2;

    /// <summary>Phi-3's original context: shorter than a 300-token prompt (long factors), longer than a 100-token one.
    /// 256, because llama.cpp (this build) rounds its context up to a multiple of 256 before comparing it with the
    /// original context: a 100-token context is 256 there, and an original context of 128 would take the long factors.</summary>
    public const int Phi3OriginalPositions = 256;

    public static readonly string[] Families = { "mixtral", "phi3", "llama3", "qwen3_moe" };

    /// <summary>Writes the tiny model of <paramref name="family"/> ("mixtral", "phi3", "llama3" or "qwen3_moe") to <paramref name="folder"/>.</summary>
    public static void Write(string folder, string family, long seed)
    {
        string llama = folder + "-llama";
        TinyLlama.Write(llama, seed);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(llama, CheckpointFolder.ConfigFileName)))!.AsObject();
        var checkpoint = CheckpointFolder.Open(llama);
        var tensors = checkpoint.TensorNames.ToDictionary(n => n, n => checkpoint.Load(n, ScalarType.Float32));
        // A generator of its own (same stream as manual_seed): tests running in parallel draw from the global one.
        using var generator = new torch.Generator((ulong)(seed + 1000));
        var random = new Random((int)seed);
        Tensor Randn(double scale, params long[] shape) => torch.randn(shape, generator: generator).mul(scale);
        switch (family)
        {
            case "mixtral":
                config["model_type"] = "mixtral";
                config["num_local_experts"] = Experts;
                config["num_experts_per_tok"] = ExpertsPerToken;
                for (int l = 0; l < TinyLlama.Layers; l++)
                {
                    string p = $"model.layers.{l}.";
                    foreach (var dense in new[] { "gate_proj", "up_proj", "down_proj" }) tensors.Remove($"{p}mlp.{dense}.weight");
                    // Router logits of a few units over a unit-RMS input: the top two are seldom near-ties.
                    tensors[p + "block_sparse_moe.gate.weight"] = Randn(0.2, Experts, TinyLlama.Hidden);
                    for (int e = 0; e < Experts; e++)
                    {
                        string x = $"{p}block_sparse_moe.experts.{e}.";
                        tensors[x + "w1.weight"] = Randn(0.06, TinyLlama.Intermediate, TinyLlama.Hidden);
                        tensors[x + "w3.weight"] = Randn(0.06, TinyLlama.Intermediate, TinyLlama.Hidden);
                        tensors[x + "w2.weight"] = Randn(0.04, TinyLlama.Hidden, TinyLlama.Intermediate);
                    }
                }
                break;
            case "qwen3_moe":
                config["model_type"] = "qwen3_moe";
                config["num_experts"] = Experts;
                config["num_experts_per_tok"] = ExpertsPerToken;
                config["moe_intermediate_size"] = TinyLlama.Intermediate;
                config["norm_topk_prob"] = true;
                int headDim = TinyLlama.Hidden / TinyLlama.Heads;
                for (int l = 0; l < TinyLlama.Layers; l++)
                {
                    string p = $"model.layers.{l}.";
                    foreach (var dense in new[] { "gate_proj", "up_proj", "down_proj" }) tensors.Remove($"{p}mlp.{dense}.weight");
                    tensors[p + "self_attn.q_norm.weight"] = torch.ones(headDim).add(Randn(0.1, headDim));
                    tensors[p + "self_attn.k_norm.weight"] = torch.ones(headDim).add(Randn(0.1, headDim));
                    // As for Mixtral: router logits of a few units, so the top two are seldom near-ties.
                    tensors[p + "mlp.gate.weight"] = Randn(0.2, Experts, TinyLlama.Hidden);
                    for (int e = 0; e < Experts; e++)
                    {
                        string x = $"{p}mlp.experts.{e}.";
                        tensors[x + "gate_proj.weight"] = Randn(0.06, TinyLlama.Intermediate, TinyLlama.Hidden);
                        tensors[x + "up_proj.weight"] = Randn(0.06, TinyLlama.Intermediate, TinyLlama.Hidden);
                        tensors[x + "down_proj.weight"] = Randn(0.04, TinyLlama.Hidden, TinyLlama.Intermediate);
                    }
                }
                break;
            case "phi3":
                config["model_type"] = "phi3";
                config["max_position_embeddings"] = 4 * Phi3OriginalPositions;
                config["original_max_position_embeddings"] = Phi3OriginalPositions;
                int half = TinyLlama.Hidden / TinyLlama.Heads / 2;
                // Longrope's factors grow toward the low frequencies (the last dimensions), the long ones more.
                config["rope_scaling"] = new JsonObject
                {
                    ["type"] = "longrope",
                    ["short_factor"] = new JsonArray(Enumerable.Range(0, half).Select(i => (JsonNode?)(1 + 0.5 * i / half + 0.05 * random.NextDouble())).ToArray()),
                    ["long_factor"] = new JsonArray(Enumerable.Range(0, half).Select(i => (JsonNode?)(1 + 7.0 * i * i / (half * half) + 0.1 * random.NextDouble())).ToArray()),
                };
                for (int l = 0; l < TinyLlama.Layers; l++)
                {
                    string p = $"model.layers.{l}.";
                    tensors[p + "self_attn.qkv_proj.weight"] = torch.cat(new[] { "q", "k", "v" }.Select(x => Take(tensors, $"{p}self_attn.{x}_proj.weight")).ToArray(), 0);
                    tensors[p + "mlp.gate_up_proj.weight"] = torch.cat(new[] { "gate", "up" }.Select(x => Take(tensors, $"{p}mlp.{x}_proj.weight")).ToArray(), 0);
                }
                break;
            case "llama3":
                // Llama 3.1's scaling over a short original context, so that most frequencies are scaled or smoothed.
                config["rope_scaling"] = new JsonObject
                {
                    ["rope_type"] = "llama3",
                    ["factor"] = 8.0,
                    ["low_freq_factor"] = 1.0,
                    ["high_freq_factor"] = 4.0,
                    ["original_max_position_embeddings"] = 64,
                };
                break;
            default:
                throw new ArgumentException($"no tiny variant '{family}'", nameof(family));
        }
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, CheckpointFolder.ConfigFileName), config.ToJsonString());
        SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), tensors);
        foreach (var t in tensors.Values) t.Dispose();
    }

    private static Tensor Take(Dictionary<string, Tensor> tensors, string name)
    {
        var t = tensors[name];
        tensors.Remove(name);
        return t;
    }

    /// <summary>BOS and <paramref name="count"/> - 1 random tokens of the test vocabulary.</summary>
    public static long[] Prompt(int seed, int count)
    {
        var random = new Random(seed);
        return new long[] { TestVocabulary.Bos }.Concat(Enumerable.Range(0, count - 1).Select(_ => (long)random.Next(TestVocabulary.FirstByte, TinyLlama.Vocab))).ToArray();
    }
}
