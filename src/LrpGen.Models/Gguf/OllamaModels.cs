using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Gguf;

/// <summary>Finds an Ollama model's GGUF file: the models folder (<c>OLLAMA_MODELS</c>, else <c>~/.ollama/models</c>)
/// holds manifests/&lt;registry&gt;/&lt;namespace&gt;/&lt;model&gt;/&lt;tag&gt; (JSON: layers with a media type and a
/// digest) and blobs/sha256-&lt;hex&gt;; the layer of media type <see cref="ModelMediaType"/> is the GGUF.</summary>
public static class OllamaModels
{
    public const string ModelMediaType = "application/vnd.ollama.image.model";
    public const string DefaultRegistry = "registry.ollama.ai";
    public const string DefaultNamespace = "library";
    public const string DefaultTag = "latest";

    /// <summary>The models folder Ollama uses: OLLAMA_MODELS when set, else ~/.ollama/models.</summary>
    public static string ModelsFolder() =>
        Environment.GetEnvironmentVariable("OLLAMA_MODELS") is { Length: > 0 } set
            ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ollama", "models");

    /// <summary>name[:tag], namespace/name[:tag] or registry/namespace/name[:tag] to the manifest's path parts.</summary>
    public static (string Registry, string Namespace, string Model, string Tag) Parse(string reference)
    {
        string text = reference.Trim();
        if (text.Length == 0) throw new CheckpointException("'ollama:' names no model; give ollama:name[:tag], e.g. ollama:llama3.2.");
        int slash = text.LastIndexOf('/');
        int colon = text.LastIndexOf(':');
        string tag = colon > slash ? text[(colon + 1)..] : DefaultTag;
        string path = colon > slash ? text[..colon] : text;
        var parts = path.Split('/');
        if (tag.Length == 0 || parts.Any(p => p.Length == 0 || p is "." or "..") || parts.Length > 3)
            throw new CheckpointException($"'ollama:{reference}' is not an Ollama model name; give ollama:name[:tag], namespace/name[:tag] or registry/namespace/name[:tag].");
        return parts.Length switch
        {
            1 => (DefaultRegistry, DefaultNamespace, parts[0], tag),
            2 => (DefaultRegistry, parts[0], parts[1], tag),
            _ => (parts[0], parts[1], parts[2], tag),
        };
    }

    /// <summary>The path of the model's GGUF blob; a missing manifest, layer or blob is a one-line
    /// <see cref="CheckpointException"/> saying where it looked.</summary>
    public static string Resolve(string reference, string? modelsFolder = null)
    {
        var (registry, ns, model, tag) = Parse(reference);
        string folder = modelsFolder ?? ModelsFolder();
        string manifest = Path.Combine(folder, "manifests", registry, ns, model, tag);
        string shown = $"{model}:{tag}";
        if (!File.Exists(manifest))
            throw new CheckpointException($"Ollama model '{shown}' is not in {folder} (no manifest {manifest}); pull it with 'ollama pull {shown}', or set OLLAMA_MODELS to the models folder.", manifest);
        string? digest;
        try
        {
            using var stream = File.OpenRead(manifest);
            using var document = JsonDocument.Parse(stream);
            digest = document.RootElement.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array
                ? layers.EnumerateArray()
                    .Where(l => l.ValueKind == JsonValueKind.Object && l.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == ModelMediaType)
                    .Select(l => l.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null)
                    .FirstOrDefault()
                : null;
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"The Ollama manifest {manifest} is not valid JSON: {e.Message}", manifest, e);
        }
        if (digest is null)
            throw new CheckpointException($"The Ollama manifest {manifest} has no layer of type {ModelMediaType} (no GGUF weights).", manifest);
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length == 7 || digest[7..].Any(c => !Uri.IsHexDigit(c)))
            throw new CheckpointException($"The Ollama manifest {manifest} names model blob '{digest}', not a sha256 digest.", manifest);
        string blob = Path.Combine(folder, "blobs", digest.Replace(':', '-'));
        if (!File.Exists(blob))
            throw new CheckpointException($"Ollama model '{shown}': its manifest names blob {blob}, which does not exist (an interrupted pull? run 'ollama pull {shown}').", blob);
        return blob;
    }
}
