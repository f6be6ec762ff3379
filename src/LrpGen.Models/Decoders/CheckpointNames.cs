using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Models.Decoders;

/// <summary>Where a parameter's values lie in a checkpoint: a whole tensor, or a part of one (an expert of a fused
/// expert tensor, a row range of a fused projection), possibly stored transposed (GPT-2's Conv1D).</summary>
/// <param name="Tensor">The checkpoint tensor's name.</param>
/// <param name="Stored">The shape the stored tensor must have when a part of it is taken (null: the parameter's).</param>
/// <param name="Expert">Selects this index along dimension 0 first (fused experts [E, ...]); null: none.</param>
/// <param name="Start">First row taken (after the expert selection).</param>
/// <param name="Rows">Rows taken; null: all.</param>
/// <param name="Transposed">The stored tensor is the parameter transposed ([in, out]).</param>
/// <param name="Layout">Names the stored layout in messages ("the Conv1D layout").</param>
public sealed record WeightSource(string Tensor, long[]? Stored = null, long? Expert = null, long Start = 0, long? Rows = null,
    bool Transposed = false, string? Layout = null)
{
    /// <summary>Whether the parameter is the stored tensor as it is.</summary>
    public bool IsWhole => Expert is null && Start == 0 && Rows is null && !Transposed;

    public override string ToString() =>
        Tensor + (Expert is { } e ? $"[{e}]" : "") + (Rows is { } r ? $" rows {Start}..{Start + r - 1}" : "") + (Transposed ? " (transposed)" : "");
}

/// <summary>How a family's parameter names map to checkpoint tensors: for each parameter, the places it may be
/// stored, tried in order (the first the checkpoint has is used; when it has none, the first is reported missing),
/// and the checkpoint tensors that no parameter takes on purpose (rotary caches).</summary>
public sealed partial record CheckpointNames(Func<string, DecoderConfig, IReadOnlyList<WeightSource>> Sources, IReadOnlyList<string> Ignored)
{
    /// <summary>These names, with <paramref name="alternatives"/> tried after them for each parameter.</summary>
    public CheckpointNames Or(Func<string, DecoderConfig, IEnumerable<WeightSource>> alternatives) =>
        this with { Sources = (name, config) => Sources(name, config).Concat(alternatives(name, config)).ToList() };

    /// <summary>Hugging Face's LLaMA layout: "layers.0.mlp.up_proj.weight" is "model.layers.0.mlp.up_proj.weight",
    /// lm_head.weight is itself or (tied) the embeddings, and experts are stored per expert (Hub) or fused
    /// (transformers 5: mlp.experts.gate_up_proj [E, 2I, H], gate rows first, and mlp.experts.down_proj [E, H, I]).</summary>
    public static CheckpointNames Llama { get; } = new(LlamaSources, new[] { "rotary_emb.inv_freq" });

    /// <summary>Mixtral as the Hub stores it: block_sparse_moe.gate and block_sparse_moe.experts.{e}.w1 (gate),
    /// w3 (up), w2 (down).</summary>
    public static CheckpointNames Mixtral { get; } = Llama.Or(MixtralSources);

    /// <summary>Phi-3's fused projections: self_attn.qkv_proj (q rows, then k, then v) and mlp.gate_up_proj (gate rows,
    /// then up), split into the LLaMA layout's q/k/v and gate/up projections.</summary>
    public static CheckpointNames Phi3 { get; } = Llama.Or(Phi3Sources);

    private static IReadOnlyList<WeightSource> LlamaSources(string name, DecoderConfig config)
    {
        if (name.StartsWith("lm_head.", StringComparison.Ordinal))
            return config.TieWordEmbeddings
                ? new[] { new WeightSource(name), new WeightSource("model.embed_tokens.weight") }
                : new[] { new WeightSource(name) };
        var sources = new List<WeightSource> { new("model." + name) };
        if (Expert(name) is (string layer, long expert, string projection))
        {
            string prefix = $"model.layers.{layer}.mlp.experts.";
            long i = config.MoeIntermediateSize, h = config.HiddenSize, e = config.Experts;
            var gateUp = new[] { e, 2 * i, h };
            sources.Add(projection switch
            {
                "gate_proj" => new WeightSource(prefix + "gate_up_proj", gateUp, expert, 0, i),
                "up_proj" => new WeightSource(prefix + "gate_up_proj", gateUp, expert, i, i),
                _ => new WeightSource(prefix + "down_proj", new[] { e, h, i }, expert),
            });
        }
        return sources;
    }

    private static IEnumerable<WeightSource> MixtralSources(string name, DecoderConfig config)
    {
        var parts = name.Split('.');
        if (parts is ["layers", var layer, "mlp", "gate", "weight"])
            yield return new WeightSource($"model.layers.{layer}.block_sparse_moe.gate.weight");
        if (Expert(name) is (string l, long e, string projection))
        {
            string w = projection switch { "gate_proj" => "w1", "up_proj" => "w3", _ => "w2" };
            yield return new WeightSource($"model.layers.{l}.block_sparse_moe.experts.{e}.{w}.weight");
        }
    }

    private static IEnumerable<WeightSource> Phi3Sources(string name, DecoderConfig c)
    {
        var parts = name.Split('.');
        if (parts is not ["layers", var layer, var block, var projection, "weight"]) yield break;
        string prefix = $"model.layers.{layer}.{block}.";
        long q = (long)c.Heads * c.HeadDim, kv = (long)c.KvHeads * c.HeadDim, i = c.IntermediateSize, h = c.HiddenSize;
        var qkv = new[] { q + 2 * kv, h };
        var gateUp = new[] { 2 * i, h };
        var source = (block, projection) switch
        {
            ("self_attn", "q_proj") => new WeightSource(prefix + "qkv_proj.weight", qkv, null, 0, q),
            ("self_attn", "k_proj") => new WeightSource(prefix + "qkv_proj.weight", qkv, null, q, kv),
            ("self_attn", "v_proj") => new WeightSource(prefix + "qkv_proj.weight", qkv, null, q + kv, kv),
            ("mlp", "gate_proj") => new WeightSource(prefix + "gate_up_proj.weight", gateUp, null, 0, i),
            ("mlp", "up_proj") => new WeightSource(prefix + "gate_up_proj.weight", gateUp, null, i, i),
            _ => null,
        };
        if (source is not null) yield return source;
    }

    /// <summary>layers.{i}.mlp.experts.{e}.{gate,up,down}_proj.weight as (i, e, projection).</summary>
    private static (string Layer, long Expert, string Projection)? Expert(string name) =>
        name.Split('.') is ["layers", var layer, "mlp", "experts", var e, var projection, "weight"]
            ? (layer, long.Parse(e, CultureInfo.InvariantCulture), projection)
            : null;
}
