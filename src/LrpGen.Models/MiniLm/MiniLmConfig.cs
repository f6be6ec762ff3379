using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using LrpGen.Models.Onnx;

namespace LrpGen.Models.MiniLm;

/// <summary>The shape of all-MiniLM-L6-v2's BERT encoder, in the terms of a Hugging Face <c>BertConfig</c>.
/// <see cref="Default"/> is the published configuration; <see cref="FromGraph"/> reads it from an ONNX export.</summary>
public sealed record MiniLmConfig(int Layers, int HiddenSize, int Heads, int IntermediateSize, double LayerNormEps,
    int MaxPositions, int VocabSize, int TypeVocabSize)
{
    /// <summary>all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, intermediate 1536, LayerNorm eps 1e-12,
    /// 512 positions, vocabulary 30522, 2 token types.</summary>
    public static MiniLmConfig Default { get; } = new(6, 384, 12, 1536, 1e-12, 512, 30522, 2);

    public int HeadSize => HiddenSize / Heads;

    /// <summary>Reads the configuration from a PyTorch ONNX export of a BERT encoder: sizes from the shapes of
    /// the named initializers, the number of layers from the <c>encoder.layer.{i}</c> names, the number of heads
    /// from the shape that splits the query into heads (or <paramref name="heads"/> where the graph does not show it;
    /// neither is an error that says how to give it; a given count that contradicts the graph is an error), and the
    /// LayerNorm epsilon from the graph (the constant added to the variance, or a
    /// <c>LayerNormalization</c> node's attribute; 1e-12 when neither is there). Every LayerNorm must agree.</summary>
    public static MiniLmConfig FromGraph(OnnxGraph graph, int? heads = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var word = Named(graph, "embeddings.word_embeddings.weight", 2);
        var positions = Named(graph, "embeddings.position_embeddings.weight", 2);
        var types = Named(graph, "embeddings.token_type_embeddings.weight", 2);
        int hidden = (int)word.Dims[1];
        int layers = 0;
        while (graph.TryGetInitializer($"encoder.layer.{layers}.attention.self.query.bias", out _))
            layers++;
        if (layers == 0)
            throw new InvalidDataException("The ONNX graph has no initializer 'encoder.layer.0.attention.self.query.bias': it is not a BERT encoder exported from PyTorch.");
        int intermediate = (int)Named(graph, "encoder.layer.0.intermediate.dense.bias", 1).Dims[0];
        int? shown = HeadsFromGraph(graph, hidden);
        if (shown is { } s && heads is { } given && s != given)
            throw new InvalidDataException($"{given} attention heads were given, but the ONNX graph splits the query into {s} heads: give {s} or leave the count out.");
        if (heads is <= 0)
            throw new InvalidDataException($"{heads} attention heads were given: give a positive count that divides the hidden size {hidden}.");
        int headCount = shown ?? heads
            ?? throw new InvalidDataException($"The ONNX graph does not show the number of attention heads: give it (SentenceModelOptions.Heads, CLI --heads N; hidden size {hidden}).");
        if (hidden % headCount != 0)
            throw new InvalidDataException($"The hidden size {hidden} is not a multiple of the {headCount} attention heads.");
        return new MiniLmConfig(layers, hidden, headCount, intermediate, EpsFromGraph(graph, layers) ?? 1e-12,
            (int)positions.Dims[0], (int)word.Dims[0], (int)types.Dims[0]);
    }

    private static OnnxTensor Named(OnnxGraph graph, string name, int rank)
    {
        if (!graph.TryGetInitializer(name, out var tensor))
            throw new InvalidDataException($"The ONNX graph has no initializer '{name}': it is not a BERT encoder exported from PyTorch.");
        if (tensor.Dims.Count != rank || tensor.Dims.Any(d => d <= 0 || d > int.MaxValue))
            throw new InvalidDataException($"The ONNX initializer '{name}' has shape [{string.Join(", ", tensor.Dims)}], not a rank-{rank} shape.");
        return tensor;
    }

    /// <summary>PyTorch's BERT splits the query into heads with <c>view(batch, seq, heads, head_size)</c>; the export
    /// builds that shape with a Concat of constants (or folds it to one constant). Null when not found.</summary>
    private static int? HeadsFromGraph(OnnxGraph graph, int hidden)
    {
        var add = graph.ConsumersOf("encoder.layer.0.attention.self.query.bias").FirstOrDefault(n => n.OpType == "Add");
        if (add is null || add.Outputs.Count != 1) return null;
        foreach (var reshape in graph.ConsumersOf(add.Outputs[0]).Where(n => n.OpType == "Reshape" && n.Inputs.Count == 2))
        {
            long[]? shape = OnnxConstants.TryInt64(graph, reshape.Inputs[1]);
            if (shape is null && graph.ProducerOf(reshape.Inputs[1]) is { OpType: "Concat" } concat && concat.Inputs.Count >= 2)
            {
                long[]? heads = OnnxConstants.TryInt64(graph, concat.Inputs[^2]);
                long[]? size = OnnxConstants.TryInt64(graph, concat.Inputs[^1]);
                if (heads is { Length: 1 } && size is { Length: 1 })
                    shape = new[] { heads[0], size[0] };
            }
            if (shape is { Length: >= 2 } && shape[^2] > 0 && shape[^2] * shape[^1] == hidden)
                return (int)shape[^2];
        }
        return null;
    }

    /// <summary>The epsilon of every LayerNorm (embeddings and the two per layer); null if none shows it.</summary>
    private static double? EpsFromGraph(OnnxGraph graph, int layers)
    {
        var norms = new List<string> { "embeddings.LayerNorm" };
        for (int i = 0; i < layers; i++)
        {
            norms.Add($"encoder.layer.{i}.attention.output.LayerNorm");
            norms.Add($"encoder.layer.{i}.output.LayerNorm");
        }
        var found = new Dictionary<string, float>();
        foreach (string norm in norms)
            if (EpsOfLayerNorm(graph, norm + ".weight") is { } eps)
                found[norm] = eps;
        if (found.Count == 0) return null;
        var distinct = found.Values.Distinct().ToArray();
        if (distinct.Length > 1)
            throw new InvalidDataException("The LayerNorms of the ONNX graph use different epsilons: "
                + string.Join(", ", found.Select(kv => $"{kv.Key} {kv.Value.ToString("R", CultureInfo.InvariantCulture)}")) + ".");
        // The graph holds a float32; the decimal it was written from is the shortest one that rounds to it (1e-12).
        return double.Parse(distinct[0].ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>Either <c>LayerNormalization(x, weight, bias)</c> with its <c>epsilon</c> attribute, or the
    /// decomposed form PyTorch exports below opset 17:
    /// <c>Mul(Div(x - mean, Sqrt(Add(ReduceMean((x - mean)^2), eps))), weight)</c>.</summary>
    private static float? EpsOfLayerNorm(OnnxGraph graph, string weight)
    {
        foreach (var node in graph.ConsumersOf(weight))
        {
            if (node.OpType == "LayerNormalization")
                return node.Attribute("epsilon")?.F ?? 1e-5f;
            if (node.OpType != "Mul" || node.Inputs.Count != 2) continue;
            string normalized = node.Inputs[0] == weight ? node.Inputs[1] : node.Inputs[0];
            if (graph.ProducerOf(normalized) is not { OpType: "Div", Inputs.Count: 2 } div) continue;
            if (graph.ProducerOf(div.Inputs[1]) is not { OpType: "Sqrt", Inputs.Count: 1 } sqrt) continue;
            if (graph.ProducerOf(sqrt.Inputs[0]) is not { OpType: "Add", Inputs.Count: 2 } add) continue;
            foreach (string operand in add.Inputs)
                if (OnnxConstants.TryFloat(graph, operand) is { Length: 1 } eps)
                    return eps[0];
        }
        return null;
    }
}
