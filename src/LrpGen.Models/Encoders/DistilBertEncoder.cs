using System;
using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.Bert;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Encoders;

/// <summary>DistilBERT's embeddings (word plus position, LayerNorm; no token types) and transformer. Forward takes the
/// word embeddings (relevance is reported there), positions 0..T-1 (<see cref="PositionIds"/>) and the additive
/// mask [B, 1, 1, T], and returns the last hidden states. Its blocks are BERT's post-LN <see cref="BertLayer"/> (the
/// same computation under other weight names: <see cref="DistilBertLoading"/> maps them).</summary>
[LrpModule]
public partial class DistilBertEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding word_embeddings, position_embeddings;
    public readonly LayerNorm embeddings_norm;
    public readonly ModuleList<BertLayer> layers;

    public DistilBertEncoder(DistilBertConfig c, Device? device = null) : base(nameof(DistilBertEncoder))
    {
        Config = c;
        word_embeddings = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        position_embeddings = nn.Embedding(c.MaxPositions, c.HiddenSize, device: device);
        embeddings_norm = nn.LayerNorm(c.HiddenSize, DistilBertConfig.LayerNormEps, device: device);
        var block = new BertConfig(c.VocabSize, c.HiddenSize, c.Layers, c.Heads, c.IntermediateSize, c.MaxPositions,
            TypeVocabSize: 1, DistilBertConfig.LayerNormEps, Labels: 1);
        layers = new ModuleList<BertLayer>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new BertLayer(block, device));
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
