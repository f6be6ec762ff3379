using System;
using System.IO;
using System.Linq;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Sentences;
using LrpGen.Models.Tests.MiniLm;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Sentences;

/// <summary><see cref="SentenceSimilarity.Load(string, SentenceModelOptions?)"/> from a sentence-transformers folder
/// written from the MiniLM package's weights, from the package's ONNX file, and from its assembly file, against ONNX
/// Runtime on the package's model; and the errors for what a source does not say.</summary>
public class LoadSourcesTests : IClassFixture<MiniLmFolderWriter>
{
    private readonly MiniLmFolderWriter _writer;

    public LoadSourcesTests(MiniLmFolderWriter writer) => _writer = writer;

    /// <summary>The model's last hidden state for <paramref name="ids"/> from ONNX Runtime, [T][384].</summary>
    private static float[][] Hidden(long[] ids)
    {
        var flat = MiniLmPackageReference.LastHiddenState(ids);
        return Enumerable.Range(0, ids.Length).Select(t => flat.AsSpan(t * 384, 384).ToArray()).ToArray();
    }

    private static float[] Normalise(float[] v)
    {
        double norm = Math.Max(Math.Sqrt(v.Sum(x => (double)x * x)), 1e-12);
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = expected.Zip(actual, (x, y) => Math.Abs((double)x - y)).Max();
        Assert.True(diff <= 1e-4, $"{what}: max diff {diff:E3}");
    }

    [Fact]
    public void FolderFromTheMiniLmWeightsGivesThePackagesEmbeddings()
    {
        using var model = SentenceSimilarity.Load(_writer.Write("mean"));
        Assert.Equal((PoolingMode.Mean, "1_Pooling/config.json", true, "modules.json"), (model.Pooling, model.Info.PoolingFrom, model.Info.Normalize, model.Info.NormalizeFrom));
        Assert.Equal((256, "sentence_bert_config.json"), (model.MaxTokens, model.Info.MaxTokensFrom));
        // Hugging Face's BertTokenizer and the package's tokenizer agree on plain English: there the folder must give
        // the package's own embeddings.
        foreach (string sentence in SentenceCorpus.ReadmePair.Concat(SentenceCorpus.All.Take(9)))
        {
            var ids = model.Encode(sentence).Ids;
            Assert.Equal(MiniLmPackageReference.Ids(sentence), ids);
            AssertClose(MiniLmPackageReference.Embedding(sentence), model.Embed(sentence), sentence);
        }
        // Everywhere (accents stripped, CJK split, cut at 256 tokens): the package's ONNX model on the folder's ids.
        var batched = model.Embed(SentenceCorpus.All);
        for (int i = 0; i < SentenceCorpus.All.Length; i++)
        {
            var tokens = model.Encode(SentenceCorpus.All[i]);
            Assert.True(tokens.Length <= 256);
            var expected = MiniLmPackageReference.MeanPoolNormalize(MiniLmPackageReference.LastHiddenState(tokens.Ids), tokens.Length);
            AssertClose(expected, batched[i], $"sentence {i}");
        }
        Assert.True(model.Encode(SentenceCorpus.All.OrderByDescending(s => s.Length).First()).Truncated);
    }

    [Fact]
    public void DenseMaxPoolingAndLastTokenFollowTheFolder()
    {
        torch.manual_seed(7);
        using var weight = torch.randn(16, 384) * 0.1;
        using var bias = torch.randn(16) * 0.1;
        using var maxModel = SentenceSimilarity.Load(_writer.Write("max-dense", "pooling_mode_max_tokens", normalize: true,
            dense: (weight, bias, "torch.nn.modules.activation.Tanh")));
        using var lastModel = SentenceSimilarity.Load(_writer.Write("last-unnormalised", "pooling_mode_lasttoken", normalize: false));
        Assert.Equal((PoolingMode.Max, PoolingMode.LastToken, false), (maxModel.Pooling, lastModel.Pooling, lastModel.Info.Normalize));
        float[] w = weight.data<float>().ToArray(), b = bias.data<float>().ToArray();
        string[] sentences = { SentenceCorpus.ReadmePair[0], "a", "", "Ein Hund spielt im Garten." };
        var maxBatched = maxModel.Embed(sentences);
        var lastBatched = lastModel.Embed(sentences);
        for (int s = 0; s < sentences.Length; s++)
        {
            var ids = maxModel.Encode(sentences[s]).Ids;
            var hidden = Hidden(ids);
            var max = Enumerable.Range(0, 384).Select(i => hidden.Max(row => row[i])).ToArray();
            var dense = Enumerable.Range(0, 16).Select(o => MathF.Tanh(b[o] + Enumerable.Range(0, 384).Sum(i => w[o * 384 + i] * max[i]))).ToArray();
            AssertClose(Normalise(dense), maxBatched[s], $"max+dense '{sentences[s]}'");
            AssertClose(hidden[^1], lastBatched[s], $"last token '{sentences[s]}'");
        }
        // The generated backward through max pooling, Dense and Tanh: its gradient x input equals autograd's.
        var gradient = maxModel.Explain(sentences[0], sentences[3], LrpGen.LrpMethod.Gradient);
        using (var words = maxModel.WordEmbeddings(gradient.A.Ids).detach().requires_grad_())
        using (var other = torch.tensor(maxBatched[3]))
        {
            using var embedded = maxModel.EmbedWords(words);
            using var score = embedded[0].dot(other);
            score.backward();
            using var reference = (words.grad! * words).sum(new long[] { -1 })[0];
            var expected = reference.data<float>().ToArray();
            for (int t = 0; t < expected.Length; t++)
                Assert.True(Math.Abs(expected[t] - gradient.A.Relevance[t]) <= 1e-4, $"token {t}: {gradient.A.Relevance[t]} vs autograd {expected[t]}");
        }
        // The explained similarity is the cosine whatever the normalisation.
        var e = lastModel.Explain(sentences[0], sentences[3]);
        double cosine = Normalise(lastBatched[0]).Zip(Normalise(lastBatched[3]), (x, y) => (double)x * y).Sum();
        Assert.True(Math.Abs(cosine - e.Similarity) <= 1e-4);
    }

    [Fact]
    public void OnnxFileWithVocabularyBesideIt()
    {
        string folder = Path.Combine(_writer.Root, "onnx");
        Directory.CreateDirectory(folder);
        string onnx = Path.Combine(folder, "model.onnx");
        File.WriteAllBytes(onnx, MiniLmPackage.ModelOnnx());
        var noVocab = Assert.Throws<FileNotFoundException>(() => SentenceSimilarity.Load(onnx, new SentenceModelOptions { Pooling = PoolingMode.Mean, Normalize = true }));
        Assert.Contains("--vocab", noVocab.Message);
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), MiniLmPackage.Vocabulary());
        var noPooling = Assert.Throws<ArgumentException>(() => SentenceSimilarity.Load(onnx));
        Assert.Contains("--pooling", noPooling.Message);
        using var model = SentenceSimilarity.Load(onnx, new SentenceModelOptions { Pooling = PoolingMode.Mean, Normalize = true });
        Assert.Equal((512, "given", "the encoder's positions"), (model.MaxTokens, model.Info.PoolingFrom, model.Info.MaxTokensFrom));
        foreach (string sentence in SentenceCorpus.ReadmePair)
            AssertClose(MiniLmPackageReference.Embedding(sentence), model.Embed(sentence), sentence);
    }

    [Fact]
    public void PackageAssemblyFileNeedsItsPoolingGiven()
    {
        string dll = MiniLmPackage.Assembly.Location;
        var error = Assert.Throws<ArgumentException>(() => SentenceSimilarity.Load(dll));
        Assert.Contains("pooling", error.Message);
        using var model = SentenceSimilarity.Load(dll, new SentenceModelOptions { Pooling = PoolingMode.Mean, Normalize = true });
        foreach (string sentence in SentenceCorpus.All.Take(12))
            AssertClose(MiniLmPackageReference.Embedding(sentence), model.Embed(sentence), sentence);
    }

    [Fact]
    public void FolderWithoutModulesNeedsPoolingAndNormalisationGiven()
    {
        string folder = _writer.Write("plain", modules: false);
        var pooling = Assert.Throws<ArgumentException>(() => SentenceSimilarity.Load(folder));
        Assert.Contains("--pooling", pooling.Message);
        var normalise = Assert.Throws<ArgumentException>(() => SentenceSimilarity.Load(folder, new SentenceModelOptions { Pooling = PoolingMode.Cls }));
        Assert.Contains("Normalize", normalise.Message);
        using var model = SentenceSimilarity.Load(folder, new SentenceModelOptions { Pooling = PoolingMode.Cls, Normalize = false });
        var ids = model.Encode(SentenceCorpus.ReadmePair[1]).Ids;
        AssertClose(Hidden(ids)[0], model.Embed(SentenceCorpus.ReadmePair[1]), "cls");
    }

    [Fact]
    public void UnknownSourcesAndModulesAreErrors()
    {
        var unknown = Assert.Throws<ArgumentException>(() => SentenceSimilarity.Load("no-such-model"));
        Assert.Contains("all-MiniLM-L6-v2, arctic-xs", unknown.Message);
        string folder = _writer.Write("two-poolings");
        File.WriteAllText(Path.Combine(folder, "1_Pooling", "config.json"), """{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}""");
        var two = Assert.Throws<InvalidDataException>(() => SentenceSimilarity.Load(folder));
        Assert.Contains("concatenation", two.Message);
    }

    [Fact]
    public void OnnxGraphWithoutHeadsNeedsTheCountGiven()
    {
        var tiny = new TinyBertGraph();
        tiny.Nodes.RemoveAll(n => n.Output == "q_heads");
        var graph = tiny.Read();
        var error = Assert.Throws<InvalidDataException>(() => MiniLmConfig.FromGraph(graph));
        Assert.Contains("--heads", error.Message);
        Assert.Equal(TinyBertGraph.Config, MiniLmConfig.FromGraph(graph, heads: 2));
        var wrong = Assert.Throws<InvalidDataException>(() => MiniLmConfig.FromGraph(new TinyBertGraph().Read(), heads: 4));
        Assert.Contains("2 heads", wrong.Message);
    }
}
