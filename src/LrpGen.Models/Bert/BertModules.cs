using System;
using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Bert;

/// <summary>A post-LN BERT layer: self-attention, dense + residual + LayerNorm, an exact-GELU MLP, dense + residual
/// + LayerNorm. Rules: uniform on both attention products, identity on GELU, LayerNorm with the std a constant.</summary>
[LrpModule]
public partial class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly Linear query, key, value, attention_dense, intermediate, output_dense;
    public readonly LayerNorm attention_norm, output_norm;
    private readonly long heads, headDim;

    public BertLayer(BertConfig c, Device? device = null) : base(nameof(BertLayer))
    {
        heads = c.Heads;
        headDim = c.HiddenSize / c.Heads;
        query = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        key = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        value = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        attention_dense = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        attention_norm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device);
        intermediate = nn.Linear(c.HiddenSize, c.IntermediateSize, device: device);
        output_dense = nn.Linear(c.IntermediateSize, c.HiddenSize, device: device);
        output_norm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <summary>The first half of forward: queries, keys, scores plus the mask, softmax. Returns the attention
    /// probabilities [B, heads, T, T]; forward inlines it, <see cref="AttentionProbabilities"/> runs it plainly.</summary>
    private Tensor Probabilities(Tensor x, Tensor mask)
    {
        var q = AttentionOps.SplitHeads(query.call(x), heads, headDim);
        var k = AttentionOps.SplitHeads(key.call(x), heads, headDim);
        return AttentionOps.Probabilities(q.matmul(k.transpose(-1, -2)) / Math.Sqrt(headDim), mask, x.dtype);
    }

    /// <summary>This layer's attention probabilities [B, heads, T, T] for its input x, as forward computes them (for
    /// attention rollout and inspection). Plain TorchSharp: autograd records it unless run under no_grad.</summary>
    public Tensor AttentionProbabilities(Tensor x, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        return Probabilities(x, mask).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask)
    {
        var probs = Probabilities(x, mask);
        var v = AttentionOps.SplitHeads(value.call(x), heads, headDim);
        var context = AttentionOps.MergeHeads(probs.matmul(v));
        var attended = attention_norm.call(attention_dense.call(context) + x);
        var inner = nn.functional.gelu(intermediate.call(attended));
        return output_norm.call(output_dense.call(inner) + attended);
    }
}

/// <summary>BERT embeddings and encoder. Forward takes the word embeddings (relevance is reported there, before
/// positions and token types are added, as in LXT's BERT data) and returns the last hidden states.</summary>
[LrpModule]
public partial class BertEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    public readonly LayerNorm embeddings_norm;
    public readonly ModuleList<BertLayer> layers;

    public BertEncoder(BertConfig c, Device? device = null) : base(nameof(BertEncoder))
    {
        word_embeddings = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        position_embeddings = nn.Embedding(c.MaxPositions, c.HiddenSize, device: device);
        token_type_embeddings = nn.Embedding(c.TypeVocabSize, c.HiddenSize, device: device);
        embeddings_norm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device);
        layers = new ModuleList<BertLayer>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new BertLayer(c, device));
        RegisterComponents();
    }

    /// <summary>The embedding layer: word embeddings plus position and token-type embeddings, LayerNorm. Forward
    /// inlines it; <see cref="AttentionProbabilities"/> reuses it.</summary>
    private Tensor EmbeddingOutput(Tensor wordEmbeds, Tensor positionIds, Tensor tokenTypeIds) =>
        embeddings_norm.call(wordEmbeds + position_embeddings.call(positionIds) + token_type_embeddings.call(tokenTypeIds));

    /// <summary>Each layer's attention probabilities [B, heads, T, T], in layer order, for the inputs of forward (for
    /// attention rollout). Plain TorchSharp: autograd records it unless run under no_grad.</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, Tensor positionIds, Tensor tokenTypeIds, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var result = new List<Tensor>();
        var h = EmbeddingOutput(wordEmbeds, positionIds, tokenTypeIds);
        foreach (var layer in layers)
        {
            result.Add(layer.AttentionProbabilities(h, mask));
            h = layer.call(h, mask);
        }
        foreach (var probs in result) probs.MoveToOuterDisposeScope();
        return result;
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor tokenTypeIds, [NoRelevance] Tensor mask)
    {
        var h = EmbeddingOutput(wordEmbeds, positionIds, tokenTypeIds);
        foreach (var layer in layers)
            h = layer.call(h, mask);
        return h;
    }
}

/// <summary>BertForSequenceClassification: the encoder, the pooler (tanh, identity rule) on the first token, and a
/// linear classifier. Output: class logits [B, labels].</summary>
[LrpModule]
public partial class BertForSequenceClassification : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly BertEncoder bert;
    public readonly Linear pooler, classifier;

    public BertForSequenceClassification(BertConfig c, Device? device = null) : base(nameof(BertForSequenceClassification))
    {
        bert = new BertEncoder(c, device);
        pooler = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        classifier = nn.Linear(c.HiddenSize, c.Labels, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor tokenTypeIds, [NoRelevance] Tensor mask)
    {
        var h = bert.call(wordEmbeds, positionIds, tokenTypeIds, mask);
        var pooled = torch.tanh(pooler.call(h[TensorIndex.Colon, 0]));
        return classifier.call(pooled);
    }
}

/// <summary>A sentence-transformers model over BERT: the encoder, then <see cref="Sentences.SentenceHead"/> (pooling,
/// optional Dense, L2 normalisation). The head's token weights and max mask are constants.</summary>
[LrpModule]
public partial class BertSentenceEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly BertEncoder bert;
    public readonly Sentences.SentenceHead head;

    public BertSentenceEncoder(BertConfig c, Sentences.SentenceHeadConfig headConfig, Device? device = null) : base(nameof(BertSentenceEncoder))
    {
        bert = new BertEncoder(c, device);
        head = new Sentences.SentenceHead(headConfig, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor tokenTypeIds, [NoRelevance] Tensor mask,
        [NoRelevance] Tensor tokenWeights, [NoRelevance] Tensor maxMask)
    {
        var h = bert.call(wordEmbeds, positionIds, tokenTypeIds, mask);
        return head.call(h, tokenWeights, maxMask);
    }
}
