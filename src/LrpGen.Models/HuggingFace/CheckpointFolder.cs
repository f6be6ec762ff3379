using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

/// <summary>A Hugging Face model folder: config.json plus either model.safetensors or a sharded checkpoint
/// (model.safetensors.index.json and the shards it names). Headers are read when opened; tensor bytes when loaded.</summary>
public sealed partial class CheckpointFolder
{
    public const string ConfigFileName = "config.json";
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, ITensorStore> _files;   // tensor name -> the file that holds it

    private CheckpointFolder(string folderPath, string configPath, JsonElement config, string modelType,
        string weightsPath, Dictionary<string, ITensorStore> files)
    {
        FolderPath = folderPath;
        ConfigPath = configPath;
        Config = config;
        ModelType = modelType;
        WeightsPath = weightsPath;
        _files = files;
    }

    /// <summary>The full path of the folder.</summary>
    public string FolderPath { get; }

    public string ConfigPath { get; }

    /// <summary>The parsed config.json (root object).</summary>
    public JsonElement Config { get; }

    /// <summary>config.json's model_type, e.g. "llama" or "qwen3_moe".</summary>
    public string ModelType { get; }

    /// <summary>model.safetensors, or model.safetensors.index.json for a sharded checkpoint: the file that
    /// messages about missing or unused tensors name.</summary>
    public string WeightsPath { get; }

    public IReadOnlyCollection<string> TensorNames => _files.Keys;

    public bool Contains(string name) => _files.ContainsKey(name);

    public long[] Shape(string name) => Holder(name).Shape(name);

    public ScalarType StoredType(string name) => Holder(name).StoredType(name);

    /// <summary>The file (shard) that holds the tensor.</summary>
    public string FileOf(string name) => Holder(name).FilePath;

    /// <summary>The tensor's name for messages (<see cref="ITensorStore.Describe"/>): a GGUF file's also names its own tensor.</summary>
    public string Describe(string name) => _files.TryGetValue(name, out var file) ? file.Describe(name) : $"'{name}'";

    /// <summary>Loads a tensor onto the CPU, converted to <paramref name="dtype"/> when given; the caller disposes it.</summary>
    public Tensor Load(string name, ScalarType? dtype = null) => Holder(name).Load(name, dtype);

    /// <summary>Opens a model: a Hugging Face folder, or a GGUF file (a path, or <c>ollama:name[:tag]</c> for a model in
    /// Ollama's folder) seen as one: its metadata as config.json, its tensors under Hugging Face names.</summary>
    public static CheckpointFolder Open(string directory)
    {
        if (Gguf.GgufCheckpoint.IsGgufReference(directory)) return Gguf.GgufCheckpoint.Open(directory);
        string folder = Path.GetFullPath(directory);
        if (!Directory.Exists(folder))
            throw new CheckpointException($"The checkpoint folder {folder} does not exist.", folder);

        string configPath = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(configPath))
            throw new CheckpointException($"The checkpoint folder {folder} has no {ConfigFileName} (expected at {configPath}).", configPath);
        var config = JsonFile.ReadObject(configPath);
        if (!config.TryGetProperty("model_type", out var modelType) || modelType.ValueKind != JsonValueKind.String)
            throw new CheckpointException($"{ConfigFileName} ({configPath}) has no 'model_type' string, so the architecture is unknown.", configPath);

        // Like transformers, prefer the single file when a folder has both.
        string single = Path.Combine(folder, SingleFileName), index = Path.Combine(folder, IndexFileName);
        Dictionary<string, ITensorStore> files;
        string weightsPath;
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            files = file.TensorNames.ToDictionary(name => name, _ => (ITensorStore)file, StringComparer.Ordinal);
            weightsPath = single;
        }
        else if (File.Exists(index))
        {
            files = ShardIndex.Open(folder, index).ToDictionary(pair => pair.Key, pair => (ITensorStore)pair.Value, StringComparer.Ordinal);
            weightsPath = index;
        }
        else
        {
            throw new CheckpointException($"The checkpoint folder {folder} has no weights: neither {SingleFileName} nor {IndexFileName}.", folder);
        }
        return new CheckpointFolder(folder, configPath, config, modelType.GetString()!, weightsPath, files);
    }

    /// <summary>A checkpoint from a configuration and one store of Hugging Face-named tensors (a converted GGUF file).</summary>
    internal static CheckpointFolder FromStore(string location, JsonElement config, string modelType, ITensorStore store) =>
        new(location, location, config, modelType, store.FilePath, store.TensorNames.ToDictionary(name => name, _ => store, StringComparer.Ordinal));

    private ITensorStore Holder(string name) =>
        _files.TryGetValue(name, out var file)
            ? file
            : throw new CheckpointException($"{WeightsPath} has no tensor '{name}'.", WeightsPath);
}
