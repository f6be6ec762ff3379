using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using LrpGen.Models.Bert;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Vit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>A golden checkpoint folder (llama, qwen3moe, gpt2, bert, vit) copied with config.json edited, and
/// loaded by its family's loader.</summary>
internal static class EditedCheckpoint
{
    /// <summary>Copies <paramref name="family"/>'s golden folder into <paramref name="into"/>, setting each dotted key
    /// of <paramref name="edits"/> to its raw JSON value (null removes the key), and adding
    /// <paramref name="extraTensors"/> to the weights.</summary>
    public static void Write(string family, string into, IReadOnlyDictionary<string, string?> edits, TensorSet? extraTensors = null)
    {
        string golden = GoldenData.Folder(family);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(golden, "config.json")))!.AsObject();
        foreach (var (key, value) in edits)
        {
            var parts = key.Split('.');
            var parent = config;
            foreach (var part in parts[..^1])
                parent = parent[part] as JsonObject ?? throw new ArgumentException($"no object '{part}' in the golden config of {family}");
            if (value is null) parent.Remove(parts[^1]);
            else parent[parts[^1]] = JsonNode.Parse(value);
        }
        File.WriteAllText(Path.Combine(into, "config.json"), config.ToJsonString());
        string weights = Path.Combine(into, "model.safetensors");
        if (extraTensors is null)
        {
            File.Copy(Path.Combine(golden, "model.safetensors"), weights);
            return;
        }
        var source = SafetensorsFile.Open(Path.Combine(golden, "model.safetensors"));
        using var all = new TensorSet();
        foreach (var name in source.TensorNames) all[name] = source.Load(name);
        foreach (var (name, tensor) in extraTensors) all[name] = tensor.clone();
        SafetensorsFile.Write(weights, all);
    }

    /// <summary>Loads the folder with the family's loader and disposes what it built.</summary>
    public static void Load(string family, string folder)
    {
        switch (family)
        {
            case "bert": BertClassifier.Load(folder).Dispose(); break;
            case "vit": VitClassifier.Load(folder).Dispose(); break;
            default: CausalLm.Load(folder).Dispose(); break;
        }
    }

    /// <summary>Writes, loads, and returns the loader's error (failing when there is none or another kind).</summary>
    public static CheckpointException Error(string family, IReadOnlyDictionary<string, string?> edits, TensorSet? extraTensors = null)
    {
        using var folder = new TempFolder();
        Write(family, folder.Path, edits, extraTensors);
        return Xunit.Assert.Throws<CheckpointException>(() => Load(family, folder.Path));
    }

    /// <summary>"key=value;key=value" (value raw JSON, or "-" to remove the key) as edits.</summary>
    public static Dictionary<string, string?> Parse(string edits) =>
        edits.Split(';').Select(e => e.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1] == "-" ? null : kv[1]);
}
