using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using LrpGen.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.MiniLm;

/// <summary>Where one Hugging Face parameter comes from in the ONNX graph: the initializer, and whether it is
/// stored transposed (a MatMul weight [in, out], or a Gemm weight without <c>transB</c>) relative to PyTorch's
/// <c>Linear.weight</c> [out, in].</summary>
public sealed record MiniLmWeightSource(string Name, long[] Shape, string Initializer, bool Transposed);

/// <summary>Reads the Hugging Face BERT state dict (names without the "bert." prefix) of an encoder from its
/// PyTorch ONNX export, such as the all-MiniLM-L6-v2 model of <see cref="MiniLmPackage"/>.
/// Embeddings, biases and LayerNorm parameters keep their PyTorch names in the export; the Linear weights are
/// MatMul initializers with numeric names and shape [in, out], found through the graph: the <c>Add</c> that
/// adds a layer's named bias takes the output of the <c>MatMul</c> whose second input is that layer's weight.</summary>
public static class MiniLmWeights
{
    /// <summary>Reads the package's model: its configuration (from the graph) and its weights.</summary>
    public static (MiniLmConfig Config, Dictionary<string, Tensor> Weights) ReadPackage()
    {
        var model = MiniLmPackage.ReadModel();
        var config = MiniLmConfig.FromGraph(model.Graph);
        return (config, Read(model.Graph, config));
    }

    /// <summary>The weights of <paramref name="model"/>, with the configuration read from its graph.</summary>
    public static Dictionary<string, Tensor> Read(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Read(model.Graph, MiniLmConfig.FromGraph(model.Graph));
    }

    /// <summary>The state dict: new float32 CPU tensors, contiguous, Linear weights [out, in]; the caller owns
    /// (disposes) them. Every expected tensor must be found exactly once with the expected shape, otherwise an
    /// <see cref="InvalidDataException"/> names it. The pooler is included when the graph has one.</summary>
    public static Dictionary<string, Tensor> Read(OnnxGraph graph, MiniLmConfig config)
    {
        var sources = Locate(graph, config);
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var source in sources)
                weights.Add(source.Name, Load(graph.Initializer(source.Initializer), source));
            return weights;
        }
        catch
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
            throw;
        }
    }

    /// <summary>The names and shapes of the state dict of an encoder of this configuration, in Hugging Face's
    /// order, with or without the pooler.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> ExpectedTensors(MiniLmConfig config, bool pooler)
    {
        ArgumentNullException.ThrowIfNull(config);
        long h = config.HiddenSize, m = config.IntermediateSize;
        var list = new List<(string, long[])>
        {
            ("embeddings.word_embeddings.weight", new[] { config.VocabSize, h }),
            ("embeddings.position_embeddings.weight", new[] { config.MaxPositions, h }),
            ("embeddings.token_type_embeddings.weight", new[] { config.TypeVocabSize, h }),
            ("embeddings.LayerNorm.weight", new[] { h }),
            ("embeddings.LayerNorm.bias", new[] { h }),
        };
        for (int i = 0; i < config.Layers; i++)
        {
            string l = $"encoder.layer.{i}.";
            foreach (string qkv in new[] { "query", "key", "value" })
            {
                list.Add(($"{l}attention.self.{qkv}.weight", new[] { h, h }));
                list.Add(($"{l}attention.self.{qkv}.bias", new[] { h }));
            }
            list.Add(($"{l}attention.output.dense.weight", new[] { h, h }));
            list.Add(($"{l}attention.output.dense.bias", new[] { h }));
            list.Add(($"{l}attention.output.LayerNorm.weight", new[] { h }));
            list.Add(($"{l}attention.output.LayerNorm.bias", new[] { h }));
            list.Add(($"{l}intermediate.dense.weight", new[] { m, h }));
            list.Add(($"{l}intermediate.dense.bias", new[] { m }));
            list.Add(($"{l}output.dense.weight", new[] { h, m }));
            list.Add(($"{l}output.dense.bias", new[] { h }));
            list.Add(($"{l}output.LayerNorm.weight", new[] { h }));
            list.Add(($"{l}output.LayerNorm.bias", new[] { h }));
        }
        if (pooler)
        {
            list.Add(("pooler.dense.weight", new[] { h, h }));
            list.Add(("pooler.dense.bias", new[] { h }));
        }
        return list;
    }

    /// <summary>Finds every expected tensor in the graph without reading any data: which initializer holds it and
    /// whether it is transposed. Throws an <see cref="InvalidDataException"/> naming the first tensor that is
    /// missing, ambiguous, shared with another, or of the wrong shape.</summary>
    public static IReadOnlyList<MiniLmWeightSource> Locate(OnnxGraph graph, MiniLmConfig config)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(config);
        bool pooler = graph.TryGetInitializer("pooler.dense.bias", out _) || graph.TryGetInitializer("pooler.dense.weight", out _);
        var claimed = new Dictionary<string, string>(StringComparer.Ordinal);
        var sources = new List<MiniLmWeightSource>();
        foreach (var (name, shape) in ExpectedTensors(config, pooler))
        {
            bool linearWeight = name.EndsWith(".weight", StringComparison.Ordinal) && shape.Length == 2
                && !name.StartsWith("embeddings.", StringComparison.Ordinal);
            var (initializer, transposed) = linearWeight
                ? LocateLinearWeight(graph, name[..^".weight".Length])
                : (Require(graph, name), false);
            if (claimed.TryGetValue(initializer.Name, out string? other))
                throw new InvalidDataException($"ONNX initializer '{initializer.Name}' was found for both '{other}' and '{name}'.");
            claimed.Add(initializer.Name, name);
            if (initializer.DataType != OnnxDataType.Float)
                throw new InvalidDataException($"'{name}' (ONNX initializer '{initializer.Name}') is {initializer.DataType}, not float32.");
            long[] stored = initializer.Shape;
            long[] actual = transposed && stored.Length == 2 ? new[] { stored[1], stored[0] } : stored;
            if (!actual.SequenceEqual(shape))
                throw new InvalidDataException(
                    $"'{name}' (ONNX initializer '{initializer.Name}', stored [{string.Join(", ", stored)}]{(transposed ? " and transposed" : "")}) has shape [{string.Join(", ", actual)}], expected [{string.Join(", ", shape)}].");
            sources.Add(new MiniLmWeightSource(name, shape, initializer.Name, transposed));
        }
        return sources;
    }

    private static OnnxTensor Require(OnnxGraph graph, string name) =>
        graph.TryGetInitializer(name, out var tensor)
            ? tensor
            : throw new InvalidDataException($"The ONNX graph has no initializer '{name}'.");

    /// <summary>A Linear layer's weight: by its own name where the export kept it (then a Gemm or MatMul tells its
    /// orientation), otherwise through the bias: its single consumer is an Add (bias + MatMul(x, W)) or a Gemm.</summary>
    private static (OnnxTensor Tensor, bool Transposed) LocateLinearWeight(OnnxGraph graph, string linear)
    {
        string weightName = linear + ".weight", biasName = linear + ".bias";
        if (graph.TryGetInitializer(weightName, out var named))
        {
            var users = graph.ConsumersOf(weightName);
            if (users.Count != 1)
                throw new InvalidDataException($"ONNX initializer '{weightName}' is used by {users.Count} nodes, not one; cannot tell its orientation.");
            return (named, Orientation(users[0], weightName, weightName));
        }

        if (!graph.TryGetInitializer(biasName, out _))
            throw new InvalidDataException(
                $"The ONNX graph has no initializer '{weightName}', nor the '{biasName}' through which a MatMul weight would be found.");
        var biasUsers = graph.ConsumersOf(biasName);
        if (biasUsers.Count != 1)
            throw new InvalidDataException($"'{weightName}' is found through '{biasName}', but that bias is used by {biasUsers.Count} nodes, not one.");
        var user = biasUsers[0];
        string? weightInput = null;
        if (user.OpType == "Gemm" && user.Inputs.Count == 3 && user.Inputs[2] == biasName)
        {
            weightInput = user.Inputs[1];
        }
        else if (user.OpType == "Add" && user.Inputs.Count == 2)
        {
            string product = user.Inputs[0] == biasName ? user.Inputs[1] : user.Inputs[0];
            var matmul = graph.ProducerOf(product);
            if (matmul is not { OpType: "MatMul", Inputs.Count: 2 })
                throw new InvalidDataException(
                    $"'{weightName}': the Add '{user.Name}' of '{biasName}' adds '{product}', which is output by {(matmul is null ? "no node" : $"{matmul.OpType} '{matmul.Name}'")}, not a MatMul.");
            user = matmul;
            weightInput = matmul.Inputs[1];
        }
        if (weightInput is null)
            throw new InvalidDataException($"'{weightName}': '{biasName}' is used by {user.OpType} '{user.Name}', neither an Add after a MatMul nor a Gemm.");
        if (!graph.TryGetInitializer(weightInput, out var weight))
            throw new InvalidDataException($"'{weightName}': {user.OpType} '{user.Name}' multiplies by '{weightInput}', which is not an initializer.");
        return (weight, Orientation(user, weightInput, weightName));
    }

    /// <summary>True when the node computes x @ W with W stored [in, out] (MatMul, or Gemm without transB).</summary>
    private static bool Orientation(OnnxNode node, string weightInput, string weightName)
    {
        if (node.Inputs.Count >= 2 && node.Inputs[1] == weightInput && node.Inputs[0] != weightInput)
        {
            if (node.OpType == "MatMul") return true;
            if (node.OpType == "Gemm")
            {
                if (node.Attribute("transA") is { I: not 0 })
                    throw new InvalidDataException($"'{weightName}': Gemm '{node.Name}' transposes its input (transA), which a Linear layer does not.");
                return node.Attribute("transB") is not { I: not 0 };
            }
        }
        throw new InvalidDataException($"'{weightName}': ONNX initializer '{weightInput}' is used by {node}, not as the weight of a MatMul or Gemm.");
    }

    private static Tensor Load(OnnxTensor initializer, MiniLmWeightSource source)
    {
        float[] values = initializer.ToFloatArray();
        var stored = torch.empty(initializer.Shape, ScalarType.Float32, torch.CPU);
        try
        {
            MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(stored.bytes);
            if (!source.Transposed) return stored;
            using (stored)
            using (var view = stored.t())
                return view.contiguous();
        }
        catch
        {
            stored.Dispose();
            throw;
        }
    }
}
