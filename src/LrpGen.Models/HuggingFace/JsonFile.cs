using System;
using System.IO;
using System.Text.Json;

namespace LrpGen.Models.HuggingFace;

/// <summary>Reads a small JSON file of a checkpoint folder (config.json, the shard index) into a root object.</summary>
internal static class JsonFile
{
    /// <summary>The root object, cloned so that it outlives the parsed document (which is disposed here).</summary>
    public static JsonElement ReadObject(string path)
    {
        string name = Path.GetFileName(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            // Hugging Face writes plain JSON, but hand-edited configs often keep a trailing comma.
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{name} ({path}) holds JSON {document.RootElement.ValueKind}, not an object.", path);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{name} ({path}) is not valid JSON: {e.Message}", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"Could not read {name} ({path}): {e.Message}", path, e);
        }
    }
}
