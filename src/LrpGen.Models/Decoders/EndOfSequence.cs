using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Decoders;

/// <summary>A model's end-of-sequence tokens: eos_token_id (one id or a list) from the folder's
/// generation_config.json where it has one (transformers' generate reads that first), else from config.json.</summary>
public static class EndOfSequence
{
    public const string GenerationConfigFileName = "generation_config.json";
    private const string Key = "eos_token_id";

    /// <summary>The ids (empty when neither file names one). An id outside [0, vocab) is left out: the model can never
    /// produce it (small test models often keep their family's real eos_token_id). A value that is not an integer is a
    /// <see cref="CheckpointException"/> naming the file.</summary>
    public static IReadOnlyList<long> Read(CheckpointFolder folder, int vocab)
    {
        var generationConfig = Path.Combine(folder.FolderPath, GenerationConfigFileName);
        if (Directory.Exists(folder.FolderPath) && File.Exists(generationConfig))
        {
            var root = JsonFile.ReadObject(generationConfig);
            if (root.TryGetProperty(Key, out var fromGeneration) && fromGeneration.ValueKind != JsonValueKind.Null)
                return Ids(fromGeneration, generationConfig, vocab);
        }
        return folder.Config.TryGetProperty(Key, out var fromConfig) && fromConfig.ValueKind != JsonValueKind.Null
            ? Ids(fromConfig, folder.ConfigPath, vocab)
            : Array.Empty<long>();
    }

    private static IReadOnlyList<long> Ids(JsonElement value, string path, int vocab)
    {
        var ids = new List<long>();
        if (value.ValueKind == JsonValueKind.Array)
            foreach (var item in value.EnumerateArray()) ids.Add(Id(item, path));
        else ids.Add(Id(value, path));
        return ids.FindAll(id => id < vocab);
    }

    private static long Id(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long id) || id < 0)
            throw new CheckpointException($"{path}: {Key} {value.GetRawText()} is not a token id (a non-negative integer or a list of them).", path);
        return id;
    }
}
