using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using static TorchSharp.torch;

namespace LrpGen.Models.Gguf;

/// <summary>Writes GGUF version 3 files: metadata in the given order, float32, float16 or bfloat16 tensors (stored as
/// F32, F16, BF16) aligned to <see cref="GgufFile.DefaultAlignment"/> (or general.alignment when given). Quantized files
/// come from llama.cpp's own quantizer (the tests run it through LLamaSharp), not from here.</summary>
public static class GgufWriter
{
    public static void Write(string path, IEnumerable<KeyValuePair<string, GgufValue>> metadata, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var entries = metadata.ToList();
        var items = tensors.ToList();
        int alignment = entries.FirstOrDefault(e => e.Key == GgufFile.AlignmentKey).Value is { } a ? (int)a.AsDouble() : GgufFile.DefaultAlignment;

        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)items.Count);
        w.Write((ulong)entries.Count);
        foreach (var (key, value) in entries)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value.Type, value.Value, value.ElementType);
        }

        long offset = 0;
        var layout = new List<(Tensor Tensor, long Offset, long Bytes)>();
        foreach (var (name, tensor) in items)
        {
            var type = tensor.dtype switch
            {
                ScalarType.Float32 => GgmlType.F32,
                ScalarType.Float16 => GgmlType.F16,
                ScalarType.BFloat16 => GgmlType.BF16,
                _ => throw new ArgumentException($"tensor '{name}' is {tensor.dtype}; the GGUF writer stores float32, float16 or bfloat16.", nameof(tensors)),
            };
            WriteString(w, name);
            w.Write((uint)tensor.dim());
            foreach (long d in Enumerable.Reverse(tensor.shape)) w.Write((ulong)d);
            w.Write((uint)type);
            w.Write((ulong)offset);
            long bytes = tensor.numel() * tensor.ElementSize;
            layout.Add((tensor, offset, bytes));
            offset = Align(offset + bytes, alignment);
        }
        w.Flush();
        Pad(file, Align(file.Position, alignment));
        long dataStart = file.Position;
        foreach (var (tensor, at, _) in layout)
        {
            Pad(file, dataStart + at);
            using var cpu = tensor.cpu();
            using var dense = cpu.contiguous();
            file.Write(dense.bytes);
        }
        Pad(file, dataStart + offset);
    }

    private static long Align(long value, int alignment) => (value + alignment - 1) / alignment * alignment;

    private static void Pad(Stream stream, long to)
    {
        while (stream.Position < to) stream.WriteByte(0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value, GgufValueType elementType)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)(long)value); break;
            case GgufValueType.Int8: w.Write((sbyte)(long)value); break;
            case GgufValueType.UInt16: w.Write((ushort)(long)value); break;
            case GgufValueType.Int16: w.Write((short)(long)value); break;
            case GgufValueType.UInt32: w.Write((uint)(long)value); break;
            case GgufValueType.Int32: w.Write((int)(long)value); break;
            case GgufValueType.Float32: w.Write((float)(double)value); break;
            case GgufValueType.Bool: w.Write((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write(value is ulong u ? u : (ulong)(long)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
                var items = (object[])value;
                w.Write((uint)elementType);
                w.Write((ulong)items.Length);
                foreach (var item in items) WriteValue(w, elementType, item, GgufValueType.UInt8);
                break;
            default: throw new ArgumentException($"GGUF has no value type {type}.");
        }
    }
}
