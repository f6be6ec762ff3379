using System;
using System.Collections.Generic;
using LrpGen;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>What to explain with a causal LM.</summary>
public sealed record ExplainRequest
{
    public LrpMethod Method { get; init; } = LrpMethod.AttnLrp;

    /// <summary>The explained logit per row; null: each row's top next-token logit.</summary>
    public IReadOnlyList<long>? Targets { get; init; }

    /// <summary>Contrastive explanation: explain target minus the mean of these rival logits (weights +1 and -1/N).</summary>
    public IReadOnlyList<long>? Rivals { get; init; }

    /// <summary>Points to report latent relevance at ("layers.*", "layers.0.mlp.down_proj", "**.o_proj").</summary>
    public IReadOnlyList<string> Latents { get; init; } = Array.Empty<string>();

    /// <summary>Conditional attribution: seed the backward at latent points instead of (or besides) the logit.</summary>
    public IReadOnlyDictionary<string, Tensor>? Seeds { get; init; }

    /// <summary>When seeds are given, whether the target logit is explained too (false: the seeds alone).</summary>
    public bool ExplainLogitWithSeeds { get; init; }

    /// <summary>Neuron manipulation: changes to forward values at points.</summary>
    public IReadOnlyDictionary<string, Func<Tensor, Tensor>>? Interventions { get; init; }
}

/// <summary>The result of one explanation of a batch. The tensors are owned here: dispose it.</summary>
public sealed class CausalLmExplanation : IDisposable
{
    internal CausalLmExplanation(long[] targets, float[] targetLogits, Tensor logits, Tensor tokenRelevance, Tensor embeddingRelevance,
        IReadOnlyDictionary<string, Tensor> latents, long[] lastPositions)
    {
        Targets = targets;
        TargetLogits = targetLogits;
        Logits = logits;
        TokenRelevance = tokenRelevance;
        EmbeddingRelevance = embeddingRelevance;
        Latents = latents;
        LastPositions = lastPositions;
    }

    /// <summary>The explained token per row.</summary>
    public long[] Targets { get; }

    /// <summary>The explained logit per row (the contrastive score when rivals were given).</summary>
    public float[] TargetLogits { get; }

    /// <summary>Next-token logits at each row's last real token, [B, vocab].</summary>
    public Tensor Logits { get; }

    /// <summary>Relevance per input position, [B, T] (float32); padding positions are 0.</summary>
    public Tensor TokenRelevance { get; }

    /// <summary>Relevance at the input embeddings, [B, T, hidden].</summary>
    public Tensor EmbeddingRelevance { get; }

    /// <summary>Relevance at each requested point, shaped like the value there ([B, T, ...]).</summary>
    public IReadOnlyDictionary<string, Tensor> Latents { get; }

    /// <summary>Index of each row's last real token (the explained position).</summary>
    public long[] LastPositions { get; }

    public void Dispose()
    {
        Logits.Dispose();
        TokenRelevance.Dispose();
        EmbeddingRelevance.Dispose();
        foreach (var t in Latents.Values) t.Dispose();
    }
}
