using System.Text.Json;

namespace LrpGen.Models.HuggingFace;

/// <summary>Typed access to config.json. A key may be a dotted path into nested objects
/// ("rope_parameters.rope_theta"); Hugging Face keys never contain dots. JSON null counts as absent,
/// since transformers writes unset options as null (e.g. "pad_token_id": null).</summary>
public sealed partial class CheckpointFolder
{
    /// <summary>The value at <paramref name="key"/>, or null when absent or JSON null.</summary>
    public JsonElement? Get(string key)
    {
        var current = Config;
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

    private CheckpointException Missing(string key) =>
        new($"{ConfigFileName} ({ConfigPath}) has no '{key}'.", ConfigPath);

    private CheckpointException WrongKind(string key, JsonElement value, string expected) =>
        new($"'{key}' in {ConfigFileName} ({ConfigPath}) is {value.GetRawText()}, not {expected}.", ConfigPath);
}
