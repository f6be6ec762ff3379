using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Families;

/// <summary>A tiny random model of one Hugging Face family, described the way its config.json and checkpoint
/// describe it (test-side: nothing here comes from the library's modules or config readers). <see cref="Weights"/>
/// are keyed by the Hugging Face names of that family.</summary>
internal sealed record TinyFamily
{
    public required string ModelType { get; init; }
    public int Vocab { get; init; } = 40;
    public int Hidden { get; init; } = 16;
    public int Intermediate { get; init; } = 24;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    public int HeadDim { get; init; } = 4;
    public double Eps { get; init; } = 1e-6;
    public double Theta { get; init; } = 10000;
    public bool Tied { get; init; }
    public bool QkvBias { get; init; }
    public bool QkNorm { get; init; }
    /// <summary>Gemma's layout: (1 + w) norms around attention and MLP, scaled embeddings, GeGLU (tanh GELU).</summary>
    public bool Gemma { get; init; }
    public double QueryPreAttnScalar { get; init; }
    public double AttentionSoftcap { get; init; }
    public double FinalSoftcap { get; init; }
    public int Window { get; init; }
    public bool[] Sliding { get; init; } = Array.Empty<bool>();
    public double LocalTheta { get; init; }
    public double LinearFactor { get; init; } = 1;
    public double[]? LongFactor { get; init; }
    public double[]? ShortFactor { get; init; }
    public int OriginalPositions { get; init; }
    public double LongRopeAttentionFactor { get; init; } = 1;
    public bool FusedProjections { get; init; }
    public int Experts { get; init; }
    public int TopK { get; init; }
    public bool NormTopk { get; init; }
    /// <summary>Mixtral's Hub names (block_sparse_moe, w1/w2/w3) instead of Qwen's (mlp.experts.e.gate_proj).</summary>
    public bool MixtralNames { get; init; }
    public required Dictionary<string, object?> Config { get; init; }

    public Dictionary<string, Tensor> Weights { get; private set; } = new();

    /// <summary>Draws the weights (float32 values, kept as float64) under the family's checkpoint names.</summary>
    public TinyFamily Draw(int seed)
    {
        torch.manual_seed(seed);
        var w = new Dictionary<string, Tensor>();
        Tensor Linear(long rows, long cols) => (torch.randn(rows, cols) * (1.0 / Math.Sqrt(cols))).to(ScalarType.Float64);
        Tensor Norm(long n) => (Gemma ? torch.randn(n) * 0.2 : 1 + torch.randn(n) * 0.2).to(ScalarType.Float64);
        Tensor Bias(long n) => (torch.randn(n) * 0.3).to(ScalarType.Float64);
        long q = Heads * HeadDim, kv = KvHeads * HeadDim;
        w["model.embed_tokens.weight"] = (torch.randn(Vocab, Hidden)).to(ScalarType.Float64);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            w[p + "input_layernorm.weight"] = Norm(Hidden);
            w[p + "post_attention_layernorm.weight"] = Norm(Hidden);
            if (Gemma)
            {
                w[p + "pre_feedforward_layernorm.weight"] = Norm(Hidden);
                w[p + "post_feedforward_layernorm.weight"] = Norm(Hidden);
            }
            if (FusedProjections) w[p + "self_attn.qkv_proj.weight"] = Linear(q + 2 * kv, Hidden);
            else
            {
                w[p + "self_attn.q_proj.weight"] = Linear(q, Hidden);
                w[p + "self_attn.k_proj.weight"] = Linear(kv, Hidden);
                w[p + "self_attn.v_proj.weight"] = Linear(kv, Hidden);
            }
            if (QkvBias)
            {
                w[p + "self_attn.q_proj.bias"] = Bias(q);
                w[p + "self_attn.k_proj.bias"] = Bias(kv);
                w[p + "self_attn.v_proj.bias"] = Bias(kv);
            }
            w[p + "self_attn.o_proj.weight"] = Linear(Hidden, q);
            if (QkNorm)
            {
                w[p + "self_attn.q_norm.weight"] = Norm(HeadDim);
                w[p + "self_attn.k_norm.weight"] = Norm(HeadDim);
            }
            if (Experts > 0)
            {
                string moe = MixtralNames ? p + "block_sparse_moe." : p + "mlp.";
                w[moe + "gate.weight"] = Linear(Experts, Hidden) * 3;   // a decisive router: the top-k is not a near tie
                for (int e = 0; e < Experts; e++)
                {
                    string x = $"{moe}experts.{e}.";
                    w[x + (MixtralNames ? "w1" : "gate_proj") + ".weight"] = Linear(Intermediate, Hidden);
                    w[x + (MixtralNames ? "w3" : "up_proj") + ".weight"] = Linear(Intermediate, Hidden);
                    w[x + (MixtralNames ? "w2" : "down_proj") + ".weight"] = Linear(Hidden, Intermediate);
                }
            }
            else if (FusedProjections)
            {
                w[p + "mlp.gate_up_proj.weight"] = Linear(2 * Intermediate, Hidden);
                w[p + "mlp.down_proj.weight"] = Linear(Hidden, Intermediate);
            }
            else
            {
                w[p + "mlp.gate_proj.weight"] = Linear(Intermediate, Hidden);
                w[p + "mlp.up_proj.weight"] = Linear(Intermediate, Hidden);
                w[p + "mlp.down_proj.weight"] = Linear(Hidden, Intermediate);
            }
        }
        w["model.norm.weight"] = Norm(Hidden);
        if (!Tied) w["lm_head.weight"] = Linear(Vocab, Hidden);
        Weights = w;
        return this;
    }

    /// <summary>Writes config.json and model.safetensors (float32) into a fresh folder.</summary>
    public TempFolder Write()
    {
        var folder = new TempFolder();
        var config = new Dictionary<string, object?>(Config) { ["torch_dtype"] = "float32" };
        config.TryAdd("model_type", ModelType);   // an edited Config may name another on purpose
        File.WriteAllText(folder.File("config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
        var stored = Weights.ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32));
        SafetensorsFile.Write(folder.File("model.safetensors"), stored);
        foreach (var t in stored.Values) t.Dispose();
        return folder;
    }
}
