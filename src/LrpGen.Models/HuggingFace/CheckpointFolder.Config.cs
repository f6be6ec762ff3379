using System.Text.Json;

namespace LrpGen.Models.HuggingFace;

/// <summary>Typed access to config.json, through <see cref="Values"/> (which also checks sizes).</summary>
public sealed partial class CheckpointFolder
{
    /// <summary>config.json's values, typed and checked.</summary>
    public ConfigReader Values => _values ??= new ConfigReader(Config, ConfigPath);

    private ConfigReader? _values;

    /// <summary>The value at <paramref name="key"/>, or null when absent or JSON null.</summary>
    public JsonElement? Get(string key) => Values.Get(key);

    public int GetInt(string key) => Values.GetInt(key);

    public double GetDouble(string key) => Values.GetDouble(key);

    public int? GetOptionalInt(string key) => Values.GetOptionalInt(key);

    public double? GetOptionalDouble(string key) => Values.GetOptionalDouble(key);

    public bool GetBool(string key, bool defaultValue) => Values.GetBool(key, defaultValue);
}
