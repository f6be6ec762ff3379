using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace LrpGen.Models.Onnx;

/// <summary>An ONNX <c>TensorProto</c>: its values are either little-endian bytes (<see cref="RawData"/>, which also
/// holds data read from an external file) or a typed repeated field. <see cref="ToFloatArray"/> and
/// <see cref="ToInt64Array"/> decode either storage and check its size against the shape.</summary>
public sealed class OnnxTensor
{
    internal OnnxTensor(string name, long[] dims, OnnxDataType dataType, ReadOnlyMemory<byte> rawData,
        IList<float> floatData, IList<long> int64Data, IList<int> int32Data, IList<double> doubleData,
        string? unreadExternalLocation)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
        RawData = rawData;
        FloatData = new System.Collections.ObjectModel.ReadOnlyCollection<float>(floatData);
        Int64Data = new System.Collections.ObjectModel.ReadOnlyCollection<long>(int64Data);
        Int32Data = new System.Collections.ObjectModel.ReadOnlyCollection<int>(int32Data);
        DoubleData = new System.Collections.ObjectModel.ReadOnlyCollection<double>(doubleData);
        ExternalLocation = unreadExternalLocation;
    }

    public string Name { get; }

    /// <summary>The shape (empty for a scalar).</summary>
    public IReadOnlyList<long> Dims { get; }

    public OnnxDataType DataType { get; }
    public ReadOnlyMemory<byte> RawData { get; }
    public IReadOnlyList<float> FloatData { get; }
    public IReadOnlyList<long> Int64Data { get; }

    /// <summary><c>int32_data</c>: INT32 values, and the bit patterns of FLOAT16 and BFLOAT16 values (one a value).</summary>
    public IReadOnlyList<int> Int32Data { get; }

    public IReadOnlyList<double> DoubleData { get; }

    /// <summary>True when the values live in an external file (<c>data_location = EXTERNAL</c>) that was not read:
    /// the model came from a stream or a byte array, so the folder of its files is unknown.</summary>
    public bool IsExternal => ExternalLocation is not null;

    /// <summary>The external file of an <see cref="IsExternal"/> tensor, relative to the model's folder; else null.</summary>
    public string? ExternalLocation { get; }

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

    /// <summary>The values as float32: FLOAT as stored, FLOAT16 and BFLOAT16 widened (exactly).</summary>
    public float[] ToFloatArray()
    {
        Require(OnnxDataType.Float, OnnxDataType.Float16, OnnxDataType.BFloat16);
        int count = CheckedCount();
        var values = new float[count];
        if (DataType == OnnxDataType.Float)
        {
            if (!RawData.IsEmpty)
            {
                CheckRaw(count, sizeof(float));
                var raw = RawData.Span;
                if (BitConverter.IsLittleEndian)
                    raw.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
                else
                    for (int i = 0; i < count; i++)
                        values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i, 4));
                return values;
            }
            CheckTyped(FloatData.Count, count, "float_data");
            for (int i = 0; i < count; i++)
                values[i] = FloatData[i];
            return values;
        }

        bool half = DataType == OnnxDataType.Float16;
        if (!RawData.IsEmpty)
        {
            CheckRaw(count, sizeof(ushort));
            var raw = RawData.Span;
            for (int i = 0; i < count; i++)
                values[i] = Widen(BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(2 * i, 2)), half);
            return values;
        }
        CheckTyped(Int32Data.Count, count, "int32_data");
        for (int i = 0; i < count; i++)
            values[i] = Widen(unchecked((ushort)Int32Data[i]), half);
        return values;
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
                values[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(8 * i, 8));
            return values;
        }
        CheckTyped(Int64Data.Count, count, "int64_data");
        return Int64Data.ToArray();
    }

    public override string ToString() => $"{Name}: {DataType}[{string.Join(", ", Dims)}]";

    /// <summary>IEEE half or bfloat16 (the upper 16 bits of a float32) bits to float32.</summary>
    private static float Widen(ushort bits, bool half) =>
        half ? (float)BitConverter.UInt16BitsToHalf(bits) : BitConverter.Int32BitsToSingle(bits << 16);

    private void Require(params OnnxDataType[] types)
    {
        if (IsExternal)
            throw new NotSupportedException(
                $"ONNX tensor '{Name}' keeps its data in the external file '{ExternalLocation}'; read the model with OnnxModelReader.ReadFile(path) so that the file next to it is found.");
        if (!types.Contains(DataType))
            throw new InvalidDataException($"ONNX tensor '{Name}' has data_type {DataType} ({(int)DataType}), not {string.Join(" or ", types)}.");
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
