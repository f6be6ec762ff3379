using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>A tiny protobuf encoder for tests: writes tags, varints, fixed values and length-delimited fields
/// exactly as the wire format specifies (https://protobuf.dev/programming-guides/encoding/).</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    public ProtoWriter Tag(int field, int wireType) => RawVarint(((ulong)field << 3) | (uint)wireType);

    public ProtoWriter RawVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.WriteByte((byte)value);
        return this;
    }

    public ProtoWriter Raw(params byte[] bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public ProtoWriter Varint(int field, long value) => Tag(field, 0).RawVarint((ulong)value);

    public ProtoWriter Fixed32(int field, uint value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ProtoWriter Float(int field, float value) => Fixed32(field, (uint)BitConverter.SingleToInt32Bits(value));

    public ProtoWriter Fixed64(int field, ulong value)
    {
        Tag(field, 1);
        Span<byte> b = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.Write(b);
        return this;
    }

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Tag(field, 2).RawVarint((ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, Action<ProtoWriter> body)
    {
        var inner = new ProtoWriter();
        body(inner);
        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedVarints(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (long v in values) inner.RawVarint((ulong)v);
        return Bytes(field, inner.ToArray());
    }

    public ProtoWriter PackedFloats(int field, IEnumerable<float> values)
    {
        var inner = new MemoryStream();
        Span<byte> b = stackalloc byte[4];
        foreach (float v in values)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(b, v);
            inner.Write(b);
        }
        return Bytes(field, inner.ToArray());
    }

    public static byte[] FloatBytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }
}

/// <summary>ONNX messages built with <see cref="ProtoWriter"/>, field numbers from onnx.proto.</summary>
internal static class OnnxProto
{
    public const int Float = 1, Int64 = 7;

    /// <summary>TensorProto with raw_data.</summary>
    public static Action<ProtoWriter> RawTensor(string name, long[] dims, int dataType, byte[] raw) => w =>
    {
        w.PackedVarints(1, dims).Varint(2, dataType).String(8, name).Bytes(9, raw);
    };

    public static Action<ProtoWriter> FloatTensor(string name, long[] dims, params float[] values) =>
        RawTensor(name, dims, Float, ProtoWriter.FloatBytes(values));

    /// <summary>NodeProto.</summary>
    public static Action<ProtoWriter> Node(string opType, string[] inputs, string[] outputs, string? name = null,
        Action<ProtoWriter>? attributes = null) => w =>
    {
        foreach (string i in inputs) w.String(1, i);
        foreach (string o in outputs) w.String(2, o);
        w.String(3, name ?? opType + "_" + outputs[0]).String(4, opType);
        attributes?.Invoke(w);
    };

    /// <summary>ModelProto { ir_version 7, opset 13, graph }.</summary>
    public static byte[] Model(Action<ProtoWriter> graph) => new ProtoWriter()
        .Varint(1, 7)
        .String(2, "test")
        .Message(8, o => o.String(1, "").Varint(2, 13))
        .Message(7, graph)
        .ToArray();
}
