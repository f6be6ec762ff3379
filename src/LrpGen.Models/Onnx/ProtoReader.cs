using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace LrpGen.Models.Onnx;

/// <summary>Protocol buffer wire types (https://protobuf.dev/programming-guides/encoding/).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>A forward-only reader of one protobuf message held in a byte array: tags, varints, 32/64-bit fixed
/// values and length-delimited fields (strings, bytes, sub-messages, packed repeated scalars). Every read is
/// bounds-checked against the end of the message; anything malformed is an <see cref="InvalidDataException"/>
/// naming the message, the field and the byte offset in the whole buffer.</summary>
internal struct ProtoReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer;
    private readonly int _end;
    private int _pos;

    public ProtoReader(byte[] buffer, int start, int end, string message)
    {
        _buffer = buffer;
        _pos = start;
        _end = end;
        Message = message;
    }

    /// <summary>The protobuf message type being read (e.g. <c>TensorProto</c>), for error messages.</summary>
    public string Message { get; }

    public readonly byte[] Buffer => _buffer;

    /// <summary>The offset of the next byte to read, in <see cref="Buffer"/>.</summary>
    public readonly int Position => _pos;

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out WireType wire)
    {
        if (_pos >= _end)
        {
            field = 0;
            wire = default;
            return false;
        }
        int at = _pos;
        ulong tag = ReadVarintCore("(tag)");
        ulong number = tag >> 3;
        if (number == 0 || number > 536_870_911)
            throw Error("(tag)", at, $"invalid field number {number}");
        field = (int)number;
        int wireValue = (int)(tag & 7);
        if (wireValue is 3 or 4)
            throw Error($"field {field}", at, "protobuf groups (wire types 3 and 4) are not supported");
        if (wireValue > 5)
            throw Error($"field {field}", at, $"invalid wire type {wireValue}");
        wire = (WireType)wireValue;
        return true;
    }

    /// <summary>Throws unless <paramref name="actual"/> is <paramref name="expected"/>.</summary>
    public readonly void Expect(WireType actual, WireType expected, string field)
    {
        if (actual != expected)
            throw Error(field, _pos, $"expected wire type {(int)expected} ({expected}) but found {(int)actual} ({actual})");
    }

    public ulong ReadVarint(string field) => ReadVarintCore(field);

    public long ReadInt64(string field, WireType wire)
    {
        Expect(wire, WireType.Varint, field);
        return (long)ReadVarintCore(field);
    }

    /// <summary>An <c>int32</c> or enum field: a varint whose value must fit 32 bits (negative values are sign
    /// extended to ten bytes on the wire).</summary>
    public int ReadInt32(string field, WireType wire)
    {
        Expect(wire, WireType.Varint, field);
        int at = _pos;
        long value = (long)ReadVarintCore(field);
        if (value is < int.MinValue or > int.MaxValue)
            throw Error(field, at, $"value {value} does not fit a 32-bit integer");
        return (int)value;
    }

    public float ReadFloat(string field, WireType wire)
    {
        Expect(wire, WireType.Fixed32, field);
        return BitConverter.Int32BitsToSingle((int)ReadFixed32(field));
    }

    public uint ReadFixed32(string field)
    {
        Need(4, field);
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_pos, 4));
        _pos += 4;
        return value;
    }

    public ulong ReadFixed64(string field)
    {
        Need(8, field);
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(_pos, 8));
        _pos += 8;
        return value;
    }

    /// <summary>A length-delimited field: its start offset in <see cref="Buffer"/> and its length.</summary>
    public (int Start, int Length) ReadLengthDelimited(string field, WireType wire)
    {
        Expect(wire, WireType.LengthDelimited, field);
        int at = _pos;
        ulong length = ReadVarintCore(field);
        if (length > (ulong)(_end - _pos))
            throw Error(field, at, $"length {length} exceeds the {_end - _pos} bytes left in the {Message}");
        int start = _pos;
        _pos += (int)length;
        return (start, (int)length);
    }

    public string ReadString(string field, WireType wire)
    {
        var (start, length) = ReadLengthDelimited(field, wire);
        try
        {
            return StrictUtf8.GetString(_buffer, start, length);
        }
        catch (DecoderFallbackException e)
        {
            throw Error(field, start, "the string is not valid UTF-8", e);
        }
    }

    public ReadOnlyMemory<byte> ReadBytes(string field, WireType wire)
    {
        var (start, length) = ReadLengthDelimited(field, wire);
        return new ReadOnlyMemory<byte>(_buffer, start, length);
    }

    /// <summary>A sub-message: a reader over its bytes.</summary>
    public ProtoReader ReadMessage(string field, WireType wire, string message)
    {
        var (start, length) = ReadLengthDelimited(field, wire);
        return new ProtoReader(_buffer, start, start + length, message);
    }

    /// <summary>One occurrence of a repeated varint field (int64, int32, uint64, enum), packed or not.</summary>
    public void ReadRepeatedVarint(string field, WireType wire, List<long> into)
    {
        if (wire == WireType.Varint)
        {
            into.Add((long)ReadVarintCore(field));
            return;
        }
        var inner = ReadMessage(field, wire, Message);
        while (inner._pos < inner._end)
            into.Add((long)inner.ReadVarintCore(field));
    }

    /// <summary>One occurrence of a repeated 32-bit fixed field (float), packed or not.</summary>
    public void ReadRepeatedFixed32(string field, WireType wire, List<uint> into)
    {
        if (wire == WireType.Fixed32)
        {
            into.Add(ReadFixed32(field));
            return;
        }
        var (start, length) = ReadLengthDelimited(field, wire);
        if (length % 4 != 0)
            throw Error(field, start, $"packed 32-bit values take {length} bytes, not a multiple of 4");
        for (int i = 0; i < length; i += 4)
            into.Add(BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(start + i, 4)));
    }

    /// <summary>One occurrence of a repeated 64-bit fixed field (double), packed or not.</summary>
    public void ReadRepeatedFixed64(string field, WireType wire, List<ulong> into)
    {
        if (wire == WireType.Fixed64)
        {
            into.Add(ReadFixed64(field));
            return;
        }
        var (start, length) = ReadLengthDelimited(field, wire);
        if (length % 8 != 0)
            throw Error(field, start, $"packed 64-bit values take {length} bytes, not a multiple of 8");
        for (int i = 0; i < length; i += 8)
            into.Add(BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(start + i, 8)));
    }

    /// <summary>Skips a field this reader does not use.</summary>
    public void Skip(int field, WireType wire)
    {
        string name = $"field {field}";
        switch (wire)
        {
            case WireType.Varint: ReadVarintCore(name); break;
            case WireType.Fixed64: Need(8, name); _pos += 8; break;
            case WireType.Fixed32: Need(4, name); _pos += 4; break;
            case WireType.LengthDelimited: ReadLengthDelimited(name, wire); break;
            default: throw Error(name, _pos, $"cannot skip wire type {(int)wire}");
        }
    }

    public readonly InvalidDataException Error(string field, int offset, string problem, Exception? inner = null)
    {
        string qualified = field.StartsWith('(') || field.StartsWith("field ", StringComparison.Ordinal)
            ? $"{Message} {field}"
            : $"{Message}.{field}";
        return new InvalidDataException($"Malformed ONNX protobuf: {qualified} at byte {offset}: {problem}.", inner);
    }

    private ulong ReadVarintCore(string field)
    {
        int start = _pos;
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (_pos >= _end)
                throw Error(field, start, $"truncated varint (the {Message} ends after {_pos - start} of its bytes)");
            byte b = _buffer[_pos++];
            if (shift == 63 && b > 1)
                throw Error(field, start, "varint longer than 10 bytes or wider than 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return result;
        }
    }

    private readonly void Need(int bytes, string field)
    {
        if (_end - _pos < bytes)
            throw Error(field, _pos, $"needs {bytes} bytes but only {_end - _pos} are left in the {Message}");
    }
}
