using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LrpGen.Models.Onnx;

/// <summary>ONNX <c>TensorProto.DataType</c> values (onnx.proto).</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
}

/// <summary>ONNX <c>AttributeProto.AttributeType</c> values.</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>An ONNX <c>ModelProto</c>, as far as LrpGen reads it (see <see cref="OnnxModelReader"/>).</summary>
public sealed class OnnxModel
{
    internal OnnxModel(long irVersion, string producerName, string producerVersion,
        IReadOnlyList<OnnxOperatorSet> opsetImports, OnnxGraph graph)
    {
        IrVersion = irVersion;
        ProducerName = producerName;
        ProducerVersion = producerVersion;
        OpsetImports = opsetImports;
        Graph = graph;
    }

    public long IrVersion { get; }
    public string ProducerName { get; }
    public string ProducerVersion { get; }
    public IReadOnlyList<OnnxOperatorSet> OpsetImports { get; }
    public OnnxGraph Graph { get; }
}

/// <summary>An <c>OperatorSetIdProto</c>: the default domain is the empty string.</summary>
public sealed record OnnxOperatorSet(string Domain, long Version);

/// <summary>An ONNX <c>GraphProto</c>: nodes in the file's (topological) order, initializers, and the names of
/// the graph's inputs and outputs. Lookups by name are indexed once, on first use.</summary>
public sealed class OnnxGraph
{
    private readonly Dictionary<string, OnnxTensor> _initializers;
    private Dictionary<string, OnnxNode>? _producers;
    private Dictionary<string, List<OnnxNode>>? _consumers;

    internal OnnxGraph(string name, IReadOnlyList<OnnxNode> nodes, IReadOnlyList<OnnxTensor> initializers,
        IReadOnlyList<string> inputs, IReadOnlyList<string> outputs)
    {
        Name = name;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        _initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (var tensor in initializers)
        {
            if (!_initializers.TryAdd(tensor.Name, tensor))
                throw new InvalidDataException($"Malformed ONNX model: GraphProto.initializer has two tensors named '{tensor.Name}'.");
        }
    }

    public string Name { get; }
    public IReadOnlyList<OnnxNode> Nodes { get; }
    public IReadOnlyList<OnnxTensor> Initializers { get; }

    /// <summary>The names of <c>GraphProto.input</c> (older exporters list initializers here too).</summary>
    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public bool TryGetInitializer(string name, out OnnxTensor tensor) =>
        _initializers.TryGetValue(name, out tensor!);

    /// <summary>The initializer called <paramref name="name"/>; a <see cref="KeyNotFoundException"/> naming it
    /// when there is none.</summary>
    public OnnxTensor Initializer(string name) =>
        _initializers.TryGetValue(name, out var tensor)
            ? tensor
            : throw new KeyNotFoundException($"The ONNX graph has no initializer named '{name}'.");

    /// <summary>The node that outputs <paramref name="value"/>, or null (a graph input, an initializer, or
    /// unknown).</summary>
    public OnnxNode? ProducerOf(string value)
    {
        _producers ??= BuildProducers();
        return _producers.TryGetValue(value, out var node) ? node : null;
    }

    /// <summary>The nodes that take <paramref name="value"/> as an input, in graph order.</summary>
    public IReadOnlyList<OnnxNode> ConsumersOf(string value)
    {
        _consumers ??= BuildConsumers();
        return _consumers.TryGetValue(value, out var nodes) ? nodes : Array.Empty<OnnxNode>();
    }

    private Dictionary<string, OnnxNode> BuildProducers()
    {
        var map = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in Nodes)
            foreach (var output in node.Outputs)
                if (output.Length > 0 && !map.TryAdd(output, node))
                    throw new InvalidDataException($"Malformed ONNX model: value '{output}' is output by two nodes ('{map[output].Name}' and '{node.Name}').");
        return map;
    }

    private Dictionary<string, List<OnnxNode>> BuildConsumers()
    {
        var map = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var node in Nodes)
            foreach (var input in node.Inputs.Where(i => i.Length > 0).Distinct(StringComparer.Ordinal))
            {
                if (!map.TryGetValue(input, out var list))
                    map[input] = list = new List<OnnxNode>();
                list.Add(node);
            }
        return map;
    }
}

/// <summary>An ONNX <c>NodeProto</c>. An empty input name is an omitted optional input.</summary>
public sealed class OnnxNode
{
    internal OnnxNode(string name, string opType, string domain, IReadOnlyList<string> inputs,
        IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttribute> attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    public string Name { get; }
    public string OpType { get; }
    public string Domain { get; }
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }
    public IReadOnlyList<OnnxAttribute> Attributes { get; }

    public OnnxAttribute? Attribute(string name) => Attributes.FirstOrDefault(a => a.Name == name);

    public override string ToString() =>
        $"{OpType} '{Name}' ({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}

/// <summary>An ONNX <c>AttributeProto</c> (graph-valued and sparse attributes are skipped).</summary>
public sealed class OnnxAttribute
{
    internal OnnxAttribute(string name, OnnxAttributeType type, float f, long i, ReadOnlyMemory<byte> s,
        OnnxTensor? t, IReadOnlyList<float> floats, IReadOnlyList<long> ints, IReadOnlyList<ReadOnlyMemory<byte>> strings)
    {
        Name = name;
        Type = type;
        F = f;
        I = i;
        S = s;
        T = t;
        Floats = floats;
        Ints = ints;
        Strings = strings;
    }

    public string Name { get; }
    public OnnxAttributeType Type { get; }
    public float F { get; }
    public long I { get; }
    public ReadOnlyMemory<byte> S { get; }
    public OnnxTensor? T { get; }
    public IReadOnlyList<float> Floats { get; }
    public IReadOnlyList<long> Ints { get; }
    public IReadOnlyList<ReadOnlyMemory<byte>> Strings { get; }
}

