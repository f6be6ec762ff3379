using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>One input of a model and the scalar it explains, seen through the input embeddings: what every
/// attribution method and the perturbation test need. Implement it to evaluate the methods on your own model
/// (see <see cref="CausalLmInput"/> and <see cref="SimilarityInput"/>).</summary>
public interface IExplainedInput : IDisposable
{
    /// <summary>The input's tokens, for display; their count is the number of positions T.</summary>
    IReadOnlyList<string> Tokens { get; }

    /// <summary>The unperturbed input embeddings [T, hidden] (owned by the input; do not dispose).</summary>
    Tensor Embeddings { get; }

    /// <summary>The explained quantity for a batch of input embeddings [N, T, hidden]: [N]. Must be differentiable
    /// with TorchSharp autograd (a plain forward), and row i must depend on row i of the batch only.</summary>
    Tensor Score(Tensor embeddings);

    /// <summary>Relevance per token [T] from the model's generated relevance pass with the given method.</summary>
    float[] LrpRelevance(LrpMethod method);

    /// <summary>Each layer's attention probabilities [heads, T, T] (rows are queries, each summing to 1) of the
    /// unperturbed input, in layer order. The caller owns the tensors.</summary>
    IReadOnlyList<Tensor> AttentionProbabilities();

    /// <summary>How the explained quantity reads the last layer's positions, for attention rollout: a weight per
    /// position [T] (a causal LM reads its last position: one-hot; a mean-pooled sentence embedding reads every
    /// position: 1/T each).</summary>
    float[] Readout { get; }
}

/// <summary>An explained input whose answer position is known (token identification / plausibility).</summary>
public interface IAnsweredInput : IExplainedInput
{
    /// <summary>The position of the input token that carries the answer.</summary>
    int AnswerPosition { get; }

    /// <summary>Every position whose token the answer needs, <see cref="AnswerPosition"/> among them (on key-value
    /// recall: the value and the queried key). Default: the answer position alone.</summary>
    IReadOnlyList<int> EvidencePositions => new[] { AnswerPosition };
}
