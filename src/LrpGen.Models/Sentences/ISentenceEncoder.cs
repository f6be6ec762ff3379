using System;
using System.Collections.Generic;
using LrpGen;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>One encoder family (BERT, RoBERTa, DistilBERT, ...) with a <see cref="SentenceHead"/> on top, behind the
/// one surface <see cref="SentenceSimilarity"/> needs. Each family supplies its own inputs (positions, token types)
/// from <see cref="EncoderBatch"/>; relevance is reported at the word embeddings.</summary>
public interface ISentenceEncoder : IDisposable
{
    /// <summary>The annotated module (for its parameters, device and dtype).</summary>
    nn.Module Module { get; }

    /// <summary>The most tokens one sentence may have (the position table's size, less any offset the family uses).</summary>
    int MaxTokens { get; }

    /// <summary>The size of the encoder's hidden states.</summary>
    int HiddenSize { get; }

    /// <summary>The word embeddings of token ids [B, T] (no autograd): the input relevance is reported at.</summary>
    Tensor WordEmbeddings(Tensor ids);

    /// <summary>The relevance forward: the L2-normalised sentence embeddings [B, embedding].</summary>
    LrpPass LrpForward(Tensor wordEmbeds, EncoderBatch batch, LrpOptions options);

    /// <summary>The plain forward, L2-normalised [B, embedding]; autograd records it unless under no_grad.</summary>
    Tensor Forward(Tensor wordEmbeds, EncoderBatch batch);

    /// <summary>The plain forward without the normalisation [B, embedding].</summary>
    Tensor ForwardUnnormalized(Tensor wordEmbeds, EncoderBatch batch);

    /// <summary>Each layer's attention probabilities [B, heads, T, T], in layer order.</summary>
    IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, EncoderBatch batch);
}
