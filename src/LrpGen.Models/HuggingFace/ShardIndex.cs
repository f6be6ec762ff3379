using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace LrpGen.Models.HuggingFace;

/// <summary>Reads model.safetensors.index.json ({"weight_map": {tensor name: shard file}}) and opens every shard
/// once, eagerly: headers are small, and a missing or corrupt shard should fail at load time, not mid-assignment.
/// As in transformers, the weight_map is authoritative: a tensor a shard holds but the map omits is not exposed.</summary>
internal static class ShardIndex
{
    public static Dictionary<string, SafetensorsFile> Open(string folder, string indexPath)
    {
        string indexName = Path.GetFileName(indexPath);
        var root = JsonFile.ReadObject(indexPath);
        if (!root.TryGetProperty("weight_map", out var weightMap) || weightMap.ValueKind != JsonValueKind.Object)
            throw new CheckpointException($"{indexName} ({indexPath}) has no 'weight_map' object.", indexPath);

        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);   // shard file name -> file
        var byTensor = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var item in weightMap.EnumerateObject())
        {
            string tensor = item.Name;
            if (item.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.Value.GetString()))
                throw new CheckpointException($"{indexName} ({indexPath}) maps tensor '{tensor}' to {item.Value.GetRawText()}, not a shard file name.", indexPath);
            string shardName = item.Value.GetString()!;

            if (!shards.TryGetValue(shardName, out var shard))
            {
                string shardPath = Path.GetFullPath(Path.Combine(folder, shardName));
                if (!File.Exists(shardPath))
                    throw new CheckpointException($"{indexName} ({indexPath}) maps tensor '{tensor}' to shard {shardName}, but {shardPath} does not exist.", shardPath);
                shard = SafetensorsFile.Open(shardPath);
                shards.Add(shardName, shard);
            }
            if (!shard.Contains(tensor))
                throw new CheckpointException($"{indexName} ({indexPath}) maps tensor '{tensor}' to shard {shard.FilePath}, which has no such tensor.", shard.FilePath);
            byTensor[tensor] = shard;
        }
        return byTensor;
    }
}
