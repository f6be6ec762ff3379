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

/// <summary>An ONNX <c>ModelProto</c>, as far as this reader understands it.</summary>
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

/// <summary>An ONNX <c>TensorProto</c>. The bytes of <c>raw_data</c> are not copied: <see cref="RawData"/> is a
/// view of the buffer the model was read from. <see cref="ToFloatArray"/> and <see cref="ToInt64Array"/> decode
/// either storage (raw little-endian bytes or the typed repeated field) and check its size against the shape.</summary>
public sealed class OnnxTensor
{
    internal OnnxTensor(string name, long[] dims, OnnxDataType dataType, ReadOnlyMemory<byte> rawData,
        float[] floatData, long[] int64Data, int[] int32Data, double[] doubleData, bool external)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
        RawData = rawData;
        FloatData = floatData;
        Int64Data = int64Data;
        Int32Data = int32Data;
        DoubleData = doubleData;
        IsExternal = external;
    }

    public string Name { get; }

    /// <summary>The shape (empty for a scalar).</summary>
    public IReadOnlyList<long> Dims { get; }

    public OnnxDataType DataType { get; }
    public ReadOnlyMemory<byte> RawData { get; }
    public IReadOnlyList<float> FloatData { get; }
    public IReadOnlyList<long> Int64Data { get; }
    public IReadOnlyList<int> Int32Data { get; }
    public IReadOnlyList<double> DoubleData { get; }

    /// <summary>True when the values live in an external file (<c>data_location = EXTERNAL</c>), which this
    /// reader does not follow.</summary>
    public bool IsExternal { get; }

    public long[] Shape => Dims.ToArray();

    /// <summary>The number of elements: the product of <see cref="Dims"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long d in Dims)
                count = checked(count * d);
            return count;
        }
    }

    public float[] ToFloatArray()
    {
        Require(OnnxDataType.Float);
        int count = CheckedCount();
        if (!RawData.IsEmpty)
        {
            CheckRaw(count, sizeof(float));
            var values = new float[count];
            var raw = RawData.Span;
            if (BitConverter.IsLittleEndian)
                raw.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            else
                for (int i = 0; i < count; i++)
                    values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i, 4));
            return values;
        }
        CheckTyped(FloatData.Count, count, "float_data");
        return FloatData.ToArray();
    }

    public long[] ToInt64Array()
    {
        Require(OnnxDataType.Int64);
        int count = CheckedCount();
        if (!RawData.IsEmpty)
        {
            CheckRaw(count, sizeof(long));
            var values = new long[count];
            var raw = RawData.Span;
            for (int i = 0; i < count; i++)
                values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(8 * i, 8));
            return values;
        }
        CheckTyped(Int64Data.Count, count, "int64_data");
        return Int64Data.ToArray();
    }

    public override string ToString() => $"{Name}: {DataType}[{string.Join(", ", Dims)}]";

    private void Require(OnnxDataType type)
    {
        if (IsExternal)
            throw new NotSupportedException($"ONNX tensor '{Name}' keeps its data in an external file, which this reader does not load.");
        if (DataType != type)
            throw new InvalidDataException($"ONNX tensor '{Name}' has data_type {DataType} ({(int)DataType}), not {type}.");
    }

    private int CheckedCount()
    {
        long count = ElementCount;
        if (count > Array.MaxLength)
            throw new InvalidDataException($"ONNX tensor '{Name}' has {count} elements, more than one array can hold.");
        return (int)count;
    }

    private void CheckRaw(int count, int elementSize)
    {
        if (RawData.Length != (long)count * elementSize)
            throw new InvalidDataException(
                $"ONNX tensor '{Name}' of shape [{string.Join(", ", Dims)}] needs {(long)count * elementSize} bytes of raw_data but has {RawData.Length}.");
    }

    private void CheckTyped(int actual, int count, string field)
    {
        if (actual != count)
            throw new InvalidDataException(
                $"ONNX tensor '{Name}' of shape [{string.Join(", ", Dims)}] needs {count} values but TensorProto.{field} has {actual} (and raw_data is empty).");
    }
}
