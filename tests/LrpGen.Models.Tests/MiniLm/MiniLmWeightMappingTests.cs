using System.IO;
using System.Linq;
using LrpGen.Models.MiniLm;
using TorchSharp;
using Xunit;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>The mapping from a PyTorch ONNX export to the Hugging Face state dict, on a hand-built one-layer
/// encoder (<see cref="TinyBertGraph"/>): values, transposes, configuration, and an error naming the tensor for
/// every way the graph can fail to show a weight.</summary>
public class MiniLmWeightMappingTests
{
    [Fact]
    public void ConfigIsReadFromTheGraph()
    {
        var config = MiniLmConfig.FromGraph(new TinyBertGraph().Read());
        Assert.Equal(TinyBertGraph.Config, config);   // heads 2 from the Reshape, eps 1e-5 from the LayerNorm constant
    }

    [Fact]
    public void EveryTensorIsFoundWithItsValuesAndMatMulWeightsAreTransposed()
    {
        var tiny = new TinyBertGraph();
        var weights = MiniLmWeights.Read(tiny.Read(), TinyBertGraph.Config);
        try
        {
            var expected = MiniLmWeights.ExpectedTensors(TinyBertGraph.Config, pooler: true);
            Assert.Equal(expected.Select(e => e.Name).OrderBy(n => n, System.StringComparer.Ordinal),
                weights.Keys.OrderBy(n => n, System.StringComparer.Ordinal));
            foreach (var (name, shape) in expected)
            {
                Assert.Equal(shape, weights[name].shape);
                Assert.True(weights[name].is_contiguous(), name);
                Assert.Equal(torch.ScalarType.Float32, weights[name].dtype);
            }

            // Named tensors are copied as they are.
            Assert.Equal(tiny.Values("encoder.layer.0.output.LayerNorm.weight"),
                weights["encoder.layer.0.output.LayerNorm.weight"].data<float>().ToArray());
            Assert.Equal(tiny.Values("pooler.dense.weight"), weights["pooler.dense.weight"].data<float>().ToArray());   // Gemm transB: [out, in] already

            // intermediate.dense: MatMul weight "104" stored [4, 8] = [in, out]; ours is [8, 4] with ours[o, i] = stored[i, o].
            float[] stored = tiny.Values("104");
            var ours = weights["encoder.layer.0.intermediate.dense.weight"];
            for (int o = 0; o < 8; o++)
                for (int i = 0; i < 4; i++)
                    Assert.Equal(stored[i * 8 + o], ours[o, i].item<float>());
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    [Fact]
    public void LocateNamesTheInitializerBehindEachWeight()
    {
        var sources = MiniLmWeights.Locate(new TinyBertGraph().Read(), TinyBertGraph.Config).ToDictionary(s => s.Name);
        Assert.Equal(("100", true), (sources["encoder.layer.0.attention.self.query.weight"].Initializer, sources["encoder.layer.0.attention.self.query.weight"].Transposed));
        Assert.Equal("105", sources["encoder.layer.0.output.dense.weight"].Initializer);
        Assert.Equal(("pooler.dense.weight", false), (sources["pooler.dense.weight"].Initializer, sources["pooler.dense.weight"].Transposed));
        Assert.False(sources["embeddings.word_embeddings.weight"].Transposed);
    }

    [Fact]
    public void WithoutAPoolerThereIsNoPoolerTensor()
    {
        var tiny = new TinyBertGraph();
        tiny.Remove("pooler.dense.weight");
        tiny.Remove("pooler.dense.bias");
        tiny.Nodes.RemoveAll(n => n.Output == "pooled");
        var sources = MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config);
        Assert.DoesNotContain(sources, s => s.Name.StartsWith("pooler.", System.StringComparison.Ordinal));
        Assert.Equal(5 + 16, sources.Count);
    }

    [Fact]
    public void MissingNamedTensorIsNamed()
    {
        var tiny = new TinyBertGraph();
        tiny.Remove("encoder.layer.0.output.LayerNorm.bias");
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config));
        Assert.Contains("'encoder.layer.0.output.LayerNorm.bias'", error.Message);
    }

    [Fact]
    public void MissingLayerIsNamed()
    {
        var config = TinyBertGraph.Config with { Layers = 2 };
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(new TinyBertGraph().Read(), config));
        Assert.Contains("encoder.layer.1.attention.self.query", error.Message);
    }

    [Fact]
    public void WrongShapeIsNamed()
    {
        var tiny = new TinyBertGraph();
        tiny.Replace("104", 4, 4);   // intermediate weight [in, out] should be [4, 8]
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config));
        Assert.Contains("'encoder.layer.0.intermediate.dense.weight'", error.Message);
        Assert.Contains("'104'", error.Message);
        Assert.Contains("expected [8, 4]", error.Message);
    }

    [Fact]
    public void WeightSharedByTwoLayersIsRejected()
    {
        var tiny = new TinyBertGraph();
        tiny.ReplaceNode("k_mm", "MatMul", "h0", "100");   // the key multiplies by the query's weight
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config));
        Assert.Contains("'100'", error.Message);
        Assert.Contains("'encoder.layer.0.attention.self.query.weight'", error.Message);
        Assert.Contains("'encoder.layer.0.attention.self.key.weight'", error.Message);
    }

    [Fact]
    public void BiasUsedTwiceIsAmbiguous()
    {
        var tiny = new TinyBertGraph();
        tiny.Node("Add", new[] { "encoder.layer.0.attention.self.value.bias", "h0" }, "extra");
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config));
        Assert.Contains("'encoder.layer.0.attention.self.value.weight'", error.Message);
        Assert.Contains("used by 2 nodes", error.Message);
    }

    [Fact]
    public void BiasAddedToSomethingElseThanAMatMulIsNamed()
    {
        var tiny = new TinyBertGraph();
        tiny.ReplaceNode("ao_mm", "Relu", "ctx");
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config));
        Assert.Contains("'encoder.layer.0.attention.output.dense.weight'", error.Message);
        Assert.Contains("not a MatMul", error.Message);
    }

    [Fact]
    public void MatMulByAComputedValueIsNamed()
    {
        var tiny = new TinyBertGraph();
        tiny.ReplaceNode("o_mm", "MatMul", "i_act", "i");
        var error = Assert.Throws<InvalidDataException>(() => MiniLmWeights.Locate(tiny.Read(), TinyBertGraph.Config));
        Assert.Contains("'encoder.layer.0.output.dense.weight'", error.Message);
        Assert.Contains("not an initializer", error.Message);
    }

    [Fact]
    public void DisagreeingEpsilonsAreRejected()
    {
        var tiny = new TinyBertGraph();
        int at = tiny.Nodes.FindIndex(n => n.Output == "h1_ln_eps");
        tiny.Nodes[at] = ("h1_ln_eps", OnnxProto.Node("Constant", System.Array.Empty<string>(), new[] { "h1_ln_eps" },
            attributes: a => a.Message(5, at => at.String(1, "value_float").Varint(20, 1).Float(2, 1e-6f))));
        var error = Assert.Throws<InvalidDataException>(() => MiniLmConfig.FromGraph(tiny.Read()));
        Assert.Contains("encoder.layer.0.attention.output.LayerNorm", error.Message);
    }
}
