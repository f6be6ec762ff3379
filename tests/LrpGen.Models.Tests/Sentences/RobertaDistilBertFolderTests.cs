using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Sentences;
using LrpGen.Models.Tests.Encoders;
using LrpGen.Models.Tests.HuggingFace;
using LrpGen.Models.Tests.Tokenizers;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Sentences;

/// <summary>Sentence-transformers folders over RoBERTa, XLM-RoBERTa (tokenizer.json, byte-level BPE) and DistilBERT
/// (vocab.txt, WordPiece) with tiny random weights, loaded through <see cref="SentenceSimilarity.Load(string, SentenceModelOptions?)"/>,
/// against Hugging Face's architectures and sentence-transformers' pooling written again here in plain TorchSharp from
/// the state-dict names the test wrote, with the rules injected into autograd (<see cref="RuleInjection"/>).</summary>
public class RobertaDistilBertFolderTests
{
    private const int Hidden = 16, Heads = 4, Layers = 2, Inner = 24, Vocab = 24;

    /// <summary>One architecture: its files, its sentences (the first with its ids derived by hand) and its reference.</summary>
    private sealed record Case(string ConfigJson, IEnumerable<(string, long[])> Shapes, Action<string> WriteTokenizer, string PoolingKey,
        string[] Sentences, long[] FirstIds, Func<RuleInjection, Tensor, IReadOnlyDictionary<string, Tensor>, Tensor> Encoder,
        Func<Tensor, Tensor> Pool, Type Family);

    // RoBERTa: pad_token_id 1, positions from 2; the tokenizer.json has no padding section, so batches pad with id 0
    // (<s>): the positions must come from the mask, not the ids.
    private const int RobertaPad = 1, RobertaPositions = 24;

    private static Case Roberta(string modelType) => new(
        $$"""
        { "model_type": "{{modelType}}", "vocab_size": {{Vocab}}, "hidden_size": {{Hidden}}, "num_hidden_layers": {{Layers}},
          "num_attention_heads": {{Heads}}, "intermediate_size": {{Inner}}, "max_position_embeddings": {{RobertaPositions}},
          "type_vocab_size": 1, "layer_norm_eps": 1e-05, "pad_token_id": {{RobertaPad}}, "bos_token_id": 0, "eos_token_id": 2,
          "hidden_act": "gelu", "position_embedding_type": "absolute" }
        """,
        BertShapes(RobertaPositions, typeVocab: 1),
        folder => File.WriteAllText(Path.Combine(folder, "tokenizer.json"), TokenizerJsonFixtures.RobertaBpe),
        "pooling_mode_mean_tokens",
        new[] { "Hello world!", "Hello", "Hello world world!", "world!!", "Hello Hello world!" },
        new long[] { 0, 15, 19, 21, 2 },
        RobertaEncoderReference,
        h => h.mean(new long[] { 1 }),
        typeof(RobertaSentenceFamily));

    private static readonly string[] DistilBertVocab =
    {
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "dog", "##s", "a", ".", "!", "run", "##ning",
        "red", "big", "[unused0]", "[unused1]", "[unused2]", "[unused3]", "[unused4]",
    };

    private const int DistilBertPositions = 16;

    private static Case DistilBert() => new(
        $$"""
        { "model_type": "distilbert", "vocab_size": {{Vocab}}, "dim": {{Hidden}}, "n_layers": {{Layers}}, "n_heads": {{Heads}},
          "hidden_dim": {{Inner}}, "max_position_embeddings": {{DistilBertPositions}}, "activation": "gelu", "pad_token_id": 0,
          "sinusoidal_pos_embds": false }
        """,
        DistilBertShapes(),
        folder =>
        {
            File.WriteAllLines(Path.Combine(folder, "vocab.txt"), DistilBertVocab, new UTF8Encoding(false));
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"do_lower_case": true}""");
        },
        "pooling_mode_cls_token",
        new[] { "The cat sat on the mat.", "Dogs run!", "A big red dog", "the cat", "Running." },
        new long[] { 2, 5, 6, 7, 8, 5, 9, 13, 3 },
        DistilBertEncoderReference,
        h => h[TensorIndex.Colon, 0],
        typeof(DistilBertSentenceFamily));

    private static Case For(string modelType) => modelType == "distilbert" ? DistilBert() : Roberta(modelType);

    private static IEnumerable<(string, long[])> BertShapes(int positions, int typeVocab) =>
        HfEncoderReference.BertShapes("", Vocab, positions, typeVocab, Hidden, Inner, Layers)
            // sentence-transformers saves the bare model with its pooler, which the sentence embedding does not use.
            .Append(("pooler.dense.weight", new long[] { Hidden, Hidden }))
            .Append(("pooler.dense.bias", new long[] { Hidden }));

    private static IEnumerable<(string, long[])> DistilBertShapes() =>
        HfEncoderReference.DistilBertShapes("", Vocab, DistilBertPositions, Hidden, Inner, Layers);

    /// <summary>RobertaModel / XLMRobertaModel on one unpadded sentence's word embeddings [1, T, hidden]: positions
    /// pad_token_id + 1 .. pad_token_id + T (create_position_ids_from_input_ids), token type 0, post-LN layers.</summary>
    private static Tensor RobertaEncoderReference(RuleInjection ri, Tensor words, IReadOnlyDictionary<string, Tensor> w)
    {
        long T = words.shape[1];
        using var positions = torch.arange(RobertaPad + 1, RobertaPad + 1 + T).unsqueeze(0);
        using var mask = torch.zeros(1, 1, 1, T, ScalarType.Float64);
        var embedded = words.add(HfEncoderReference.Rows(w["embeddings.position_embeddings.weight"], positions))
            .add(w["embeddings.token_type_embeddings.weight"][0]);
        var h = ri.LayerNorm(embedded, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], 1e-5);
        for (int i = 0; i < Layers; i++)
        {
            string l = $"encoder.layer.{i}.";
            h = HfEncoderReference.PostLnLayer(ri, h, mask, w, Heads, 1e-5, l + "attention.self.query", l + "attention.self.key",
                l + "attention.self.value", l + "attention.output.dense", l + "attention.output.LayerNorm", l + "intermediate.dense",
                l + "output.dense", l + "output.LayerNorm");
        }
        return h;
    }

    /// <summary>DistilBertModel on one unpadded sentence's word embeddings: positions 0..T-1, no token types, LayerNorm
    /// eps 1e-12, post-LN blocks under DistilBERT's names.</summary>
    private static Tensor DistilBertEncoderReference(RuleInjection ri, Tensor words, IReadOnlyDictionary<string, Tensor> w)
    {
        long T = words.shape[1];
        using var positions = torch.arange(T).unsqueeze(0);
        using var mask = torch.zeros(1, 1, 1, T, ScalarType.Float64);
        var h = ri.LayerNorm(words.add(HfEncoderReference.Rows(w["embeddings.position_embeddings.weight"], positions)),
            w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], 1e-12);
        for (int i = 0; i < Layers; i++)
        {
            string l = $"transformer.layer.{i}.";
            h = HfEncoderReference.PostLnLayer(ri, h, mask, w, Heads, 1e-12, l + "attention.q_lin", l + "attention.k_lin",
                l + "attention.v_lin", l + "attention.out_lin", l + "sa_layer_norm", l + "ffn.lin1", l + "ffn.lin2", l + "output_layer_norm");
        }
        return h;
    }

    /// <summary>The sentence embedding: the encoder, sentence-transformers' pooling, then Normalize (x / ||x||, the
    /// norm a constant under the rules).</summary>
    private static Tensor Reference(Case c, RuleInjection ri, Tensor words, IReadOnlyDictionary<string, Tensor> w)
    {
        var pooled = c.Pool(c.Encoder(ri, words, w));
        var inverseNorm = pooled.pow(2).sum(new long[] { -1 }, keepdim: true).add(1e-24).rsqrt();
        return pooled.mul(ri.Method == LrpMethod.Gradient ? inverseNorm : inverseNorm.detach());
    }

    /// <summary>Writes the folder (weights rounded to float32 and saved so; <paramref name="stateDict"/> keeps the same
    /// values in float64 for the reference) and returns its path.</summary>
    private static string WriteFolder(TempFolder folder, Case c, TensorSet stateDict)
    {
        foreach (var name in stateDict.Keys.ToArray())
        {
            var rounded = stateDict[name].to(ScalarType.Float32).to(ScalarType.Float64);
            stateDict[name].Dispose();
            stateDict[name] = rounded;
        }
        File.WriteAllText(folder.File("config.json"), c.ConfigJson);
        using (var single = new TensorSet())
        {
            foreach (var (name, t) in stateDict) single[name] = t.to(ScalarType.Float32);
            SafetensorsFile.Write(folder.File("model.safetensors"), single);
        }
        c.WriteTokenizer(folder.Path);
        File.WriteAllText(folder.File("modules.json"), """
            [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
             {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
             {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
            """);
        Directory.CreateDirectory(folder.File("1_Pooling"));
        File.WriteAllText(Path.Combine(folder.Path, "1_Pooling", "config.json"),
            $$"""{"word_embedding_dimension": {{Hidden}}, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false, "{{c.PoolingKey}}": true}""");
        return folder.Path;
    }

    private static Tensor Ids(long[] ids) => torch.tensor(ids, new long[] { 1, ids.Length });

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    [InlineData("distilbert")]
    public void EmbeddingsEqualTheReferenceAndBatchedRowsEqualEachSentenceAlone(string modelType)
    {
        var c = For(modelType);
        using var folder = new TempFolder();
        using var stateDict = HfEncoderReference.RandomStateDict(c.Shapes, seed: 17);
        using var model = SentenceSimilarity.Load(WriteFolder(folder, c, stateDict));
        Assert.IsType(c.Family, model.Encoder);
        Assert.True(model.Info.Normalize);
        Assert.Equal(c.FirstIds, model.Encode(c.Sentences[0]).Ids);

        var ri = new RuleInjection(LrpMethod.Gradient);
        var alone = c.Sentences.Select(model.Embed).ToArray();
        for (int i = 0; i < c.Sentences.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var ids = Ids(model.Encode(c.Sentences[i]).Ids);
            var words = HfEncoderReference.Rows(stateDict["embeddings.word_embeddings.weight"], ids);
            var expected = Reference(c, ri, words, stateDict)[0].data<double>().ToArray();
            double diff = expected.Zip(alone[i], (e, a) => Math.Abs(e - a)).Max();
            Assert.True(diff <= 1e-5, $"{modelType} '{c.Sentences[i]}': max |embedding - reference| = {diff:E3}");
        }

        // One padded batch: the sentences have different lengths, so every row but the longest is padded.
        Assert.True(c.Sentences.Select(s => model.Encode(s).Length).Distinct().Count() > 2);
        var batched = model.Embed(c.Sentences);
        for (int i = 0; i < c.Sentences.Length; i++)
        {
            double diff = batched[i].Zip(alone[i], (b, a) => Math.Abs((double)b - a)).Max();
            Assert.True(diff <= 1e-6, $"{modelType} '{c.Sentences[i]}': batched row differs from the sentence alone by {diff:E3}");
        }
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    [InlineData("distilbert")]
    public void RelevanceOfTheSimilarityEqualsAutogradWithTheRulesInjected(string modelType)
    {
        var c = For(modelType);
        using var folder = new TempFolder();
        using var stateDict = HfEncoderReference.RandomStateDict(c.Shapes, seed: 23);
        using var model = SentenceSimilarity.Load(WriteFolder(folder, c, stateDict));
        model.Encoder.Module.to(ScalarType.Float64);
        string a = c.Sentences[0], b = c.Sentences[2];
        var idsA = model.Encode(a).Ids;
        var idsB = model.Encode(b).Ids;

        // The generated pass against the reference for AttnLRP, CP-LRP and the gradient (output and relevance).
        using var words = model.WordEmbeddings(idsA);
        using (var ids = Ids(idsA))
        using (var expectedWords = HfEncoderReference.Rows(stateDict["embeddings.word_embeddings.weight"], ids))
            Close.Relative(words, expectedWords, 0, $"{modelType} word embeddings");
        HfEncoderReference.Check(options => model.ForwardWords(words, options), words, (ri, x) => Reference(c, ri, x, stateDict), modelType);

        // The explanation of cos(A, B): A's relevance for the product with B's embedding held fixed, summed per token.
        var explanation = model.Explain(a, b);
        using var scope = torch.NewDisposeScope();
        var attn = new RuleInjection(LrpMethod.AttnLrp);
        using var wordsB = model.WordEmbeddings(idsB);
        var embeddingB = Reference(c, attn, wordsB, stateDict).detach();
        var embeddingA = Reference(c, attn, words, stateDict).detach();
        double cosine = embeddingA.mul(embeddingB).sum().item<double>();
        Assert.True(Math.Abs(cosine - explanation.Similarity) <= 1e-6, $"{modelType}: similarity {explanation.Similarity} vs reference {cosine}");
        var expected = RuleInjection.InputTimesGradient(words, x => Reference(c, attn, x, stateDict), embeddingB)[0].sum(new long[] { -1 });
        Close.Relative(torch.tensor(explanation.A.Relevance).to(ScalarType.Float64), expected, 1e-6, $"{modelType} relevance of A for cos(A, B)");
        Assert.Equal(idsA, explanation.A.Ids);
    }
}
