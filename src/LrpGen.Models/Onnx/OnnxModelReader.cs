using System;
using System.Collections.Generic;
using System.IO;

namespace LrpGen.Models.Onnx;

/// <summary>A minimal reader of ONNX model files (protobuf <c>onnx.ModelProto</c>, see onnx/onnx.proto): the
/// graph's nodes (inputs, outputs, name, op type, domain, attributes), its initializers (name, dims, data type
/// and the data, raw or typed) and the names of its inputs and outputs. Everything else is skipped.
/// The file is read into one byte array; initializer bytes are views of it, never copied, so a 90 MB model
/// costs about 90 MB. Malformed input is an <see cref="InvalidDataException"/> naming the protobuf field.</summary>
public static class OnnxModelReader
{
    public static OnnxModel ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Read(File.ReadAllBytes(path));
    }

    /// <summary>Reads the stream to its end, then parses it.</summary>
    public static OnnxModel Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] bytes;
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining > Array.MaxLength)
                throw new InvalidDataException($"The ONNX stream holds {remaining} bytes, more than one array can hold.");
            bytes = new byte[remaining];
            stream.ReadExactly(bytes);
        }
        else
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        return Read(bytes);
    }

    /// <summary>Parses a whole <c>ModelProto</c>. The returned tensors refer to <paramref name="bytes"/>: do not
    /// change it afterwards.</summary>
    public static OnnxModel Read(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var reader = new ProtoReader(bytes, 0, bytes.Length, "ModelProto");
        long irVersion = 0;
        string producerName = "", producerVersion = "";
        var opsets = new List<OnnxOperatorSet>();
        OnnxGraph? graph = null;
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: irVersion = reader.ReadInt64("ir_version", wire); break;
                case 2: producerName = reader.ReadString("producer_name", wire); break;
                case 3: producerVersion = reader.ReadString("producer_version", wire); break;
                case 7:
                    if (graph is not null)
                        throw reader.Error("graph", reader.Position, "the model has more than one graph");
                    var graphReader = reader.ReadMessage("graph", wire, "GraphProto");
                    graph = ReadGraph(ref graphReader);
                    break;
                case 8:
                    var opsetReader = reader.ReadMessage("opset_import", wire, "OperatorSetIdProto");
                    opsets.Add(ReadOpset(ref opsetReader));
                    break;
                default: reader.Skip(field, wire); break;
            }
        }
        if (graph is null)
            throw new InvalidDataException("Malformed ONNX protobuf: ModelProto.graph (field 7) is missing; this is not an ONNX model.");
        return new OnnxModel(irVersion, producerName, producerVersion, opsets, graph);
    }

    private static OnnxOperatorSet ReadOpset(ref ProtoReader reader)
    {
        string domain = "";
        long version = 0;
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: domain = reader.ReadString("domain", wire); break;
                case 2: version = reader.ReadInt64("version", wire); break;
                default: reader.Skip(field, wire); break;
            }
        }
        return new OnnxOperatorSet(domain, version);
    }

    private static OnnxGraph ReadGraph(ref ProtoReader reader)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1:
                    var nodeReader = reader.ReadMessage("node", wire, "NodeProto");
                    nodes.Add(ReadNode(ref nodeReader));
                    break;
                case 2: name = reader.ReadString("name", wire); break;
                case 5:
                    var tensorReader = reader.ReadMessage("initializer", wire, "TensorProto");
                    initializers.Add(ReadTensor(ref tensorReader));
                    break;
                case 11:
                    var inputReader = reader.ReadMessage("input", wire, "ValueInfoProto");
                    inputs.Add(ReadValueInfoName(ref inputReader));
                    break;
                case 12:
                    var outputReader = reader.ReadMessage("output", wire, "ValueInfoProto");
                    outputs.Add(ReadValueInfoName(ref outputReader));
                    break;
                default: reader.Skip(field, wire); break;
            }
        }
        return new OnnxGraph(name, nodes, initializers, inputs, outputs);
    }

    private static string ReadValueInfoName(ref ProtoReader reader)
    {
        string name = "";
        while (reader.TryReadTag(out int field, out var wire))
        {
            if (field == 1) name = reader.ReadString("name", wire);
            else reader.Skip(field, wire);
        }
        return name;
    }

    private static OnnxNode ReadNode(ref ProtoReader reader)
    {
        string name = "", opType = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: inputs.Add(reader.ReadString("input", wire)); break;
                case 2: outputs.Add(reader.ReadString("output", wire)); break;
                case 3: name = reader.ReadString("name", wire); break;
                case 4: opType = reader.ReadString("op_type", wire); break;
                case 5:
                    var attributeReader = reader.ReadMessage("attribute", wire, "AttributeProto");
                    attributes.Add(ReadAttribute(ref attributeReader));
                    break;
                case 7: domain = reader.ReadString("domain", wire); break;
                default: reader.Skip(field, wire); break;
            }
        }
        return new OnnxNode(name, opType, domain, inputs, outputs, attributes);
    }

    /// <summary>Graph-valued attributes (<c>g</c>, <c>graphs</c>) are skipped, so nothing here recurses.</summary>
    private static OnnxAttribute ReadAttribute(ref ProtoReader reader)
    {
        string name = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        ReadOnlyMemory<byte> s = default;
        OnnxTensor? t = null;
        var floatBits = new List<uint>();
        var ints = new List<long>();
        var strings = new List<ReadOnlyMemory<byte>>();
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: name = reader.ReadString("name", wire); break;
                case 2: f = reader.ReadFloat("f", wire); break;
                case 3: i = reader.ReadInt64("i", wire); break;
                case 4: s = reader.ReadBytes("s", wire); break;
                case 5:
                    var tensorReader = reader.ReadMessage("t", wire, "TensorProto");
                    t = ReadTensor(ref tensorReader);
                    break;
                case 7: reader.ReadRepeatedFixed32("floats", wire, floatBits); break;
                case 8: reader.ReadRepeatedVarint("ints", wire, ints); break;
                case 9: strings.Add(reader.ReadBytes("strings", wire)); break;
                case 20: type = (OnnxAttributeType)reader.ReadInt32("type", wire); break;
                default: reader.Skip(field, wire); break;
            }
        }
        var floats = new float[floatBits.Count];
        for (int k = 0; k < floats.Length; k++)
            floats[k] = BitConverter.Int32BitsToSingle((int)floatBits[k]);
        return new OnnxAttribute(name, type, f, i, s, t, floats, ints, strings);
    }

    private static OnnxTensor ReadTensor(ref ProtoReader reader)
    {
        string name = "";
        var dims = new List<long>();
        int dataType = 0;
        ReadOnlyMemory<byte> raw = default;
        var floatBits = new List<uint>();
        var int64s = new List<long>();
        var int32s = new List<long>();
        var doubleBits = new List<ulong>();
        bool external = false;
        while (reader.TryReadTag(out int field, out var wire))
        {
            switch (field)
            {
                case 1: reader.ReadRepeatedVarint("dims", wire, dims); break;
                case 2: dataType = reader.ReadInt32("data_type", wire); break;
                case 4: reader.ReadRepeatedFixed32("float_data", wire, floatBits); break;
                case 5: reader.ReadRepeatedVarint("int32_data", wire, int32s); break;
                case 7: reader.ReadRepeatedVarint("int64_data", wire, int64s); break;
                case 8: name = reader.ReadString("name", wire); break;
                case 9: raw = reader.ReadBytes("raw_data", wire); break;
                case 10: reader.ReadRepeatedFixed64("double_data", wire, doubleBits); break;
                case 14: external = reader.ReadInt32("data_location", wire) == 1; break;
                default: reader.Skip(field, wire); break;
            }
        }
        foreach (long d in dims)
            if (d < 0)
                throw new InvalidDataException($"Malformed ONNX protobuf: TensorProto.dims of tensor '{name}' has the negative dimension {d}.");
        if (!Enum.IsDefined(typeof(OnnxDataType), dataType))
            throw new InvalidDataException($"Malformed ONNX protobuf: TensorProto.data_type of tensor '{name}' is {dataType}, not a known ONNX data type.");

        var floats = new float[floatBits.Count];
        for (int k = 0; k < floats.Length; k++)
            floats[k] = BitConverter.Int32BitsToSingle((int)floatBits[k]);
        var int32Values = new int[int32s.Count];
        for (int k = 0; k < int32Values.Length; k++)
            int32Values[k] = unchecked((int)int32s[k]);
        var doubles = new double[doubleBits.Count];
        for (int k = 0; k < doubles.Length; k++)
            doubles[k] = BitConverter.Int64BitsToDouble((long)doubleBits[k]);
        return new OnnxTensor(name, dims.ToArray(), (OnnxDataType)dataType, raw, floats, int64s.ToArray(),
            int32Values, doubles, external);
    }
}
