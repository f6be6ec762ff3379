using System;
using System.Globalization;
using System.Text.Json;

namespace LrpGen.Models.HuggingFace;

/// <summary>Typed, checked access to a config.json: every size is a whole number within
/// <see cref="ConfigLimits"/>, every divisibility a model relies on is checked, and each problem is a one-line
/// <see cref="CheckpointException"/> naming the file, the key and the value, before any tensor exists.
/// A key may be a dotted path into nested objects ("rope_parameters.rope_theta"); Hugging Face keys never contain
/// dots. JSON null counts as absent, since transformers writes unset options as null (e.g. "pad_token_id": null).</summary>
public sealed class ConfigReader
{
    public ConfigReader(JsonElement root, string path)
    {
        Root = root;
        Path = path ?? throw new ArgumentNullException(nameof(path));
    }

    /// <summary>The parsed root object.</summary>
    public JsonElement Root { get; }

    /// <summary>The config file, named in every message.</summary>
    public string Path { get; }

    /// <summary>The value at <paramref name="key"/>, or null when absent or JSON null.</summary>
    public JsonElement? Get(string key)
    {
        var current = Root;
        foreach (var part in key.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
                return null;
        }
        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    public int GetInt(string key) => GetOptionalInt(key) ?? throw Missing(key);

    public double GetDouble(string key) => GetOptionalDouble(key) ?? throw Missing(key);

    public int? GetOptionalInt(string key)
    {
        if (Get(key) is not JsonElement value) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result)) return result;
        throw WrongKind(key, value, "an integer");
    }

    public double? GetOptionalDouble(string key)
    {
        if (Get(key) is not JsonElement value) return null;
        // Integers are fine too: Python writes rope_theta = 10000 as 10000, not 10000.0.
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double result)) return result;
        throw WrongKind(key, value, "a number");
    }

    public bool GetBool(string key, bool defaultValue)
    {
        if (Get(key) is not JsonElement value) return defaultValue;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongKind(key, value, "true or false"),
        };
    }

    public string GetString(string key, string defaultValue)
    {
        if (Get(key) is not JsonElement value) return defaultValue;
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongKind(key, value, "a string");
    }

    // ------------------------------------------------------------ checked sizes

    /// <summary>A required size or count: a whole number from 1 to <paramref name="max"/>.</summary>
    public int Size(string key, int max) => OptionalSize(key, max) ?? throw Missing(key);

    /// <summary>An optional size: <paramref name="fallback"/> when absent, else a whole number from 1 to
    /// <paramref name="max"/>.</summary>
    public int Size(string key, int max, int fallback) => OptionalSize(key, max) ?? fallback;

    /// <summary>An optional size: null when absent, else a whole number from 1 to <paramref name="max"/>.</summary>
    public int? OptionalSize(string key, int max)
    {
        if (Get(key) is not JsonElement value) return null;
        // Reading as a double first tells "too large" (5000000000, 1e12) from "not a number" ("64").
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || number != Math.Floor(number))
            throw WrongKind(key, value, "a whole number");
        if (number < 1 || number > max)
            throw Invalid(key, value.GetRawText(), $"it must be from 1 to {max.ToString(CultureInfo.InvariantCulture)}");
        return (int)number;
    }

    /// <summary>A positive, finite number such as an epsilon or a RoPE base; <paramref name="fallback"/> when absent.</summary>
    public double PositiveNumber(string key, double fallback)
    {
        double value = GetOptionalDouble(key) ?? fallback;
        if (!(value > 0) || double.IsInfinity(value))
            throw Invalid(key, Format(value), "it must be a positive number");
        return value;
    }

    /// <summary>Checks that size <paramref name="key"/> is a multiple of size <paramref name="divisorKey"/>.</summary>
    public void RequireMultiple(string key, long value, string divisorKey, long divisor)
    {
        if (value % divisor != 0)
            throw Invalid(key, Format(value), $"it must be a multiple of '{divisorKey}' ({Format(divisor)})");
    }

    /// <summary>Checks that size <paramref name="key"/> is even, for the reason given (e.g. RoPE rotates pairs).</summary>
    public void RequireEven(string key, long value, string reason)
    {
        if (value % 2 != 0) throw Invalid(key, Format(value), $"it must be even: {reason}");
    }

    /// <summary>Checks that size <paramref name="key"/> is at most size <paramref name="boundKey"/>.</summary>
    public void RequireAtMost(string key, long value, string boundKey, long bound)
    {
        if (value > bound) throw Invalid(key, Format(value), $"it must be at most '{boundKey}' ({Format(bound)})");
    }

    /// <summary>"config.json: 'key' is value; rule." as a <see cref="CheckpointException"/>.</summary>
    public CheckpointException Invalid(string key, string value, string rule) =>
        new($"{Path}: '{key}' is {value}; {rule}.", Path);

    /// <summary>A problem with the configuration as a whole (an unsupported option), naming the file.</summary>
    public CheckpointException Unsupported(string what) => new($"{Path}: {what}", Path);

    private CheckpointException Missing(string key) =>
        new($"{System.IO.Path.GetFileName(Path)} ({Path}) has no '{key}'.", Path);

    private CheckpointException WrongKind(string key, JsonElement value, string expected) =>
        new($"'{key}' in {System.IO.Path.GetFileName(Path)} ({Path}) is {value.GetRawText()}, not {expected}.", Path);

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The plausible bounds of config.json sizes: far above any published model, low enough that a typo
/// (an extra digit, a byte count for an element count) is an error rather than an allocation of terabytes.</summary>
public static class ConfigLimits
{
    public const int HiddenSize = 65_536;
    public const int Layers = 1_024;
    public const int Heads = 65_536;
    public const int HeadDim = 65_536;
    public const int VocabSize = 10_000_000;
    public const int IntermediateSize = 1_048_576;
    public const int Positions = 10_000_000;
    public const int Experts = 65_536;
    public const int ImageSize = 65_536;
}
