using System;
using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Encoders;

/// <summary>A DistilBERT transformer block (post-LN): self-attention, out_lin + residual + LayerNorm, an exact-GELU
/// feed-forward, lin2 + residual + LayerNorm. Rules: uniform on both attention products, identity on GELU,
/// LayerNorm with the std a constant. Field names are Hugging Face's (q_lin, sa_layer_norm, lin1, ...).</summary>
[LrpModule]
public partial class DistilBertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly Linear q_lin, k_lin, v_lin, out_lin, lin1, lin2;
    public readonly LayerNorm sa_layer_norm, output_layer_norm;
    private readonly long heads, headDim;

    public DistilBertLayer(DistilBertConfig c, Device? device = null) : base(nameof(DistilBertLayer))
    {
        heads = c.Heads;
        headDim = c.HiddenSize / c.Heads;
        q_lin = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        k_lin = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        v_lin = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        out_lin = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        sa_layer_norm = nn.LayerNorm(c.HiddenSize, DistilBertConfig.LayerNormEps, device: device);
        lin1 = nn.Linear(c.HiddenSize, c.IntermediateSize, device: device);
        lin2 = nn.Linear(c.IntermediateSize, c.HiddenSize, device: device);
        output_layer_norm = nn.LayerNorm(c.HiddenSize, DistilBertConfig.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <summary>Queries, keys, scaled scores plus the additive mask, softmax: [B, heads, T, T]. Forward inlines it.</summary>
    private Tensor Probabilities(Tensor x, Tensor mask)
    {
        var q = AttentionOps.SplitHeads(q_lin.call(x), heads, headDim);
        var k = AttentionOps.SplitHeads(k_lin.call(x), heads, headDim);
        return AttentionOps.Probabilities(q.matmul(k.transpose(-1, -2)) / Math.Sqrt(headDim), mask, x.dtype);
    }

    /// <summary>This layer's attention probabilities [B, heads, T, T] for its input x (for rollout and inspection).</summary>
    public Tensor AttentionProbabilities(Tensor x, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        return Probabilities(x, mask).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask)
    {
        var probs = Probabilities(x, mask);
        var v = AttentionOps.SplitHeads(v_lin.call(x), heads, headDim);
        var context = AttentionOps.MergeHeads(probs.matmul(v));
        var attended = sa_layer_norm.call(out_lin.call(context) + x);
        var inner = nn.functional.gelu(lin1.call(attended));
        return output_layer_norm.call(lin2.call(inner) + attended);
    }
}

/// <summary>DistilBERT's embeddings (word plus position, LayerNorm; no token types) and transformer. Forward takes the
/// word embeddings (relevance is reported there), positions 0..T-1 (<see cref="PositionIds"/>) and the additive
/// mask [B, 1, 1, T], and returns the last hidden states.</summary>
[LrpModule]
public partial class DistilBertEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding word_embeddings, position_embeddings;
    public readonly LayerNorm embeddings_norm;
    public readonly ModuleList<DistilBertLayer> layers;

    public DistilBertEncoder(DistilBertConfig c, Device? device = null) : base(nameof(DistilBertEncoder))
    {
        Config = c;
        word_embeddings = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        position_embeddings = nn.Embedding(c.MaxPositions, c.HiddenSize, device: device);
        embeddings_norm = nn.LayerNorm(c.HiddenSize, DistilBertConfig.LayerNormEps, device: device);
        layers = new ModuleList<DistilBertLayer>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new DistilBertLayer(c, device));
        RegisterComponents();
    }

    public DistilBertConfig Config { get; }

    /// <summary>Positions 0..T-1 for every row of <paramref name="ids"/> [B, T], as DistilBERT uses them (padding
    /// included: padded positions are masked out of attention).</summary>
    public static Tensor PositionIds(Tensor ids)
    {
        long batch = ids.shape[0], length = ids.shape[1];
        using var scope = torch.NewDisposeScope();
        return torch.arange(length, device: ids.device).unsqueeze(0).expand(batch, length).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Each layer's attention probabilities [B, heads, T, T], in layer order (for attention rollout).</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, Tensor positionIds, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var result = new List<Tensor>();
        var h = embeddings_norm.call(wordEmbeds + position_embeddings.call(positionIds));
        foreach (var layer in layers)
        {
            result.Add(layer.AttentionProbabilities(h, mask));
            h = layer.call(h, mask);
        }
        foreach (var probs in result) probs.MoveToOuterDisposeScope();
        return result;
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor mask)
    {
        var h = embeddings_norm.call(wordEmbeds + position_embeddings.call(positionIds));
        foreach (var layer in layers)
            h = layer.call(h, mask);
        return h;
    }
}
