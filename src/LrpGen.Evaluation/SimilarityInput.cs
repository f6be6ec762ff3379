using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Sentences;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>A sentence pair under any <see cref="SentenceSimilarity"/> (a built-in such as all-MiniLM-L6-v2 or arctic-xs,
/// a sentence-transformers folder, an ONNX file or a package assembly): the explained quantity is the
/// cosine similarity e(A) . e(B) as a function of A's word embeddings, with B's embedding held fixed (as
/// <c>lrpgen similarity</c> explains each side). Removing a token zeroes its word embedding (its position and
/// token-type embeddings stay).</summary>
public sealed class SimilarityInput : IExplainedInput
{
    private readonly SentenceSimilarity _model;
    private readonly Tensor _embeddings;
    private readonly Tensor _other;

    /// <param name="model">The model (not owned).</param>
    /// <param name="a">The explained sentence.</param>
    /// <param name="b">The sentence whose embedding is held fixed.</param>
    public SimilarityInput(SentenceSimilarity model, string a, string b)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        A = a ?? throw new ArgumentNullException(nameof(a));
        B = b ?? throw new ArgumentNullException(nameof(b));
        var encoding = model.Encode(a);
        Tokens = encoding.Pieces;
        using var words = model.WordEmbeddings(encoding.Ids);
        _embeddings = words[0].detach().clone();
        _other = torch.tensor(model.Embed(b));
        Readout = ReadoutOf(model.Pooling, encoding.Ids.Length);
    }

    /// <summary>How the sentence embedding reads the last layer's tokens, for attention rollout: the pooled token
    /// (CLS: the first, last token: the last) or every token alike (mean; max pooling, whose selection differs per
    /// feature, is read as the mean too).</summary>
    private static float[] ReadoutOf(PoolingMode pooling, int length)
    {
        var readout = new float[length];
        switch (pooling)
        {
            case PoolingMode.Cls: readout[0] = 1; break;
            case PoolingMode.LastToken: readout[^1] = 1; break;
            default: Array.Fill(readout, 1f / length); break;
        }
        return readout;
    }

    public string A { get; }
    public string B { get; }
    public IReadOnlyList<string> Tokens { get; }
    public Tensor Embeddings => _embeddings;
    public float[] Readout { get; }

    /// <summary>e(A') . e(B) for each row A' of [N, T, hidden].</summary>
    public Tensor Score(Tensor embeddings)
    {
        using var embedded = _model.EmbedWords(embeddings);
        using var other = _other.to(embedded.dtype, embedded.device);
        return embedded.matmul(other);
    }

    public float[] LrpRelevance(LrpMethod method)
    {
        using var scope = torch.NewDisposeScope();
        var batch = _embeddings.unsqueeze(0);
        using var pass = _model.ForwardWords(batch, new LrpOptions { Method = method });
        var relevance = pass.Backward(_other.unsqueeze(0))[0];
        var tokens = relevance[0].sum(new long[] { -1 }).to(ScalarType.Float32).cpu();
        return tokens.data<float>().ToArray();
    }

    public IReadOnlyList<Tensor> AttentionProbabilities()
    {
        using var batch = _embeddings.unsqueeze(0);
        var layers = _model.AttentionProbabilities(batch);
        var result = layers.Select(l => l[0].to(ScalarType.Float32)).ToList();
        foreach (var l in layers) l.Dispose();
        return result;
    }

    public void Dispose()
    {
        _embeddings.Dispose();
        _other.Dispose();
    }
}
