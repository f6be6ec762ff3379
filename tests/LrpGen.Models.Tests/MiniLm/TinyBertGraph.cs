using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Onnx;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>A one-layer BERT encoder (hidden 4, 2 heads, intermediate 8) written as a PyTorch ONNX export writes
/// it: named embeddings, biases and LayerNorm parameters, numeric MatMul weights [in, out] found through
/// MatMul -> Add(bias), LayerNorms decomposed with their epsilon as a Constant, the query split into heads by a
/// Reshape to Concat(..., heads, head size), and a Gemm pooler with transB. Tests edit
/// <see cref="Initializers"/> and <see cref="Nodes"/> before <see cref="Read"/> to break it.</summary>
internal sealed class TinyBertGraph
{
    public const int Hidden = 4, Intermediate = 8, Heads = 2, Vocab = 10, Positions = 6, Types = 2;
    public const float Eps = 1e-5f;

    public static MiniLmConfig Config { get; } = new(1, Hidden, Heads, Intermediate, 1e-5, Positions, Vocab, Types);

    public List<(string Name, long[] Dims, float[] Values)> Initializers { get; } = new();
    public List<(string Output, Action<ProtoWriter> Write)> Nodes { get; } = new();

    public TinyBertGraph()
    {
        Init("embeddings.word_embeddings.weight", Vocab, Hidden);
        Init("embeddings.position_embeddings.weight", Positions, Hidden);
        Init("embeddings.token_type_embeddings.weight", Types, Hidden);
        Node("Gather", new[] { "embeddings.word_embeddings.weight", "input_ids" }, "emb");
        LayerNorm("embeddings.LayerNorm", "emb", "h0");

        const string l = "encoder.layer.0.";
        Linear(l + "attention.self.query", "h0", "q", "100", Hidden, Hidden);
        Linear(l + "attention.self.key", "h0", "k", "101", Hidden, Hidden);
        Linear(l + "attention.self.value", "h0", "v", "102", Hidden, Hidden);
        Constant("heads", new[] { (long)Heads });
        Constant("head_size", new[] { (long)(Hidden / Heads) });
        Node("Concat", new[] { "batch", "seq", "heads", "head_size" }, "q_shape");
        Node("Reshape", new[] { "q", "q_shape" }, "q_heads");
        Node("Identity", new[] { "v" }, "ctx");
        Linear(l + "attention.output.dense", "ctx", "ao", "103", Hidden, Hidden);
        LayerNorm(l + "attention.output.LayerNorm", "ao", "h1");
        Linear(l + "intermediate.dense", "h1", "i", "104", Hidden, Intermediate);
        Node("Erf", new[] { "i" }, "i_act");
        Linear(l + "output.dense", "i_act", "o", "105", Intermediate, Hidden);
        LayerNorm(l + "output.LayerNorm", "o", "last_hidden_state");

        Init("pooler.dense.weight", Hidden, Hidden);
        Init("pooler.dense.bias", Hidden);
        Nodes.Add(("pooled", OnnxProto.Node("Gemm", new[] { "last_hidden_state", "pooler.dense.weight", "pooler.dense.bias" },
            new[] { "pooled" }, attributes: a => a.Message(5, at => at.String(1, "transB").Varint(20, 2).Varint(3, 1)))));
    }

    public float[] Values(string initializer) => Initializers.Single(i => i.Name == initializer).Values;

    public void Remove(string initializer) => Initializers.RemoveAll(i => i.Name == initializer);

    public void Replace(string initializer, params long[] dims)
    {
        Remove(initializer);
        Init(initializer, dims);
    }

    /// <summary>Replaces the node that outputs <paramref name="output"/>.</summary>
    public void ReplaceNode(string output, string opType, params string[] inputs)
    {
        int at = Nodes.FindIndex(n => n.Output == output);
        Nodes[at] = (output, OnnxProto.Node(opType, inputs, new[] { output }));
    }

    public void Node(string opType, string[] inputs, string output) =>
        Nodes.Add((output, OnnxProto.Node(opType, inputs, new[] { output })));

    public OnnxGraph Read() => OnnxModelReader.Read(OnnxProto.Model(g =>
    {
        g.String(2, "tiny_bert");
        foreach (string input in new[] { "input_ids", "attention_mask", "token_type_ids" })
            g.Message(11, v => v.String(1, input));
        g.Message(12, v => v.String(1, "last_hidden_state"));
        foreach (var (name, dims, values) in Initializers)
            g.Message(5, OnnxProto.FloatTensor(name, dims, values));
        foreach (var (_, write) in Nodes)
            g.Message(1, write);
    })).Graph;

    /// <summary>A float initializer whose values count up from a start unique to it.</summary>
    private void Init(string name, params long[] dims)
    {
        float start = 1000 * (Initializers.Count + 1);
        int count = (int)dims.Aggregate(1L, (a, b) => a * b);
        Initializers.Add((name, dims, Enumerable.Range(0, count).Select(i => start + i).ToArray()));
    }

    private void Constant(string output, long[] values) =>
        Nodes.Add((output, OnnxProto.Node("Constant", Array.Empty<string>(), new[] { output }, attributes: a => a
            .Message(5, at => at.String(1, "value").Varint(20, 4).Message(5, t => t
                .PackedVarints(1, new long[] { values.Length }).Varint(2, OnnxProto.Int64).PackedVarints(7, values))))));

    private void Linear(string prefix, string input, string output, string weight, int inSize, int outSize)
    {
        Init(weight, inSize, outSize);
        Init(prefix + ".bias", outSize);
        Node("MatMul", new[] { input, weight }, output + "_mm");
        Node("Add", new[] { prefix + ".bias", output + "_mm" }, output);
    }

    private void LayerNorm(string prefix, string input, string output)
    {
        Init(prefix + ".weight", Hidden);
        Init(prefix + ".bias", Hidden);
        string p = output + "_ln_";
        Node("ReduceMean", new[] { input }, p + "mean");
        Node("Sub", new[] { input, p + "mean" }, p + "centered");
        Node("Pow", new[] { p + "centered", p + "centered" }, p + "squared");
        Node("ReduceMean", new[] { p + "squared" }, p + "variance");
        Nodes.Add((p + "eps", OnnxProto.Node("Constant", Array.Empty<string>(), new[] { p + "eps" }, attributes: a => a
            .Message(5, at => at.String(1, "value").Varint(20, 4)
                .Message(5, OnnxProto.FloatTensor("", Array.Empty<long>(), Eps))))));
        Node("Add", new[] { p + "variance", p + "eps" }, p + "shifted");
        Node("Sqrt", new[] { p + "shifted" }, p + "std");
        Node("Div", new[] { p + "centered", p + "std" }, p + "normalized");
        Node("Mul", new[] { p + "normalized", prefix + ".weight" }, p + "scaled");
        Node("Add", new[] { p + "scaled", prefix + ".bias" }, output);
    }
}
