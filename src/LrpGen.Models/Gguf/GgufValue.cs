using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Models.Gguf;

/// <summary>GGUF's metadata value types, numbered as the file stores them.</summary>
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9,
    UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>One metadata value: its stored type and the value (integers as long or ulong, floats as double, bool,
/// string, or for an array its element type and an array of such values).</summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue UInt32(uint value) => new(GgufValueType.UInt32, (long)value);
    public static GgufValue Int32(int value) => new(GgufValueType.Int32, (long)value);
    public static GgufValue UInt64(ulong value) => new(GgufValueType.UInt64, value);
    public static GgufValue Float32(float value) => new(GgufValueType.Float32, (double)value);
    public static GgufValue Bool(bool value) => new(GgufValueType.Bool, value);
    public static GgufValue String(string value) => new(GgufValueType.String, value);
    public static GgufValue Strings(IEnumerable<string> values) => new(GgufValueType.Array, values.Cast<object>().ToArray(), GgufValueType.String);
    public static GgufValue Float32s(IEnumerable<float> values) => new(GgufValueType.Array, values.Select(v => (object)(double)v).ToArray(), GgufValueType.Float32);
    public static GgufValue Int32s(IEnumerable<int> values) => new(GgufValueType.Array, values.Select(v => (object)(long)v).ToArray(), GgufValueType.Int32);

    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    public bool IsNumber => IsInteger || Type is GgufValueType.Float32 or GgufValueType.Float64;

    /// <summary>The elements of an array value.</summary>
    public IReadOnlyList<object> Elements => Value as object[] ?? throw new InvalidOperationException($"a {Type} value is not an array.");

    /// <summary>The value as a number (integer or float); only valid when <see cref="IsNumber"/>.</summary>
    public double AsDouble() => Value switch
    {
        long l => l,
        ulong u => u,
        double d => d,
        _ => throw new InvalidOperationException($"a {Type} value is not a number."),
    };

    /// <summary>A short rendering for messages: numbers and strings as they are, arrays by element type and length.</summary>
    public override string ToString() => Value switch
    {
        object[] items => $"an array of {items.Length} {ElementType} values",
        string s => $"\"{s}\"",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}
