using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Models.Gguf;

/// <summary>A GGUF file seen as a Hugging Face checkpoint, through its architecture's table
/// (<see cref="GgufArchitectures"/>): metadata becomes config.json's keys, each GGUF tensor a Hugging Face tensor
/// (renamed; q/k rows un-permuted where the conversion permuted them; stacked experts split per expert). The decoders'
/// Hugging Face loaders then read it as they read a folder, shape checks and all.</summary>
public sealed class GgufCheckpoint : ITensorStore
{
    public const string OllamaPrefix = "ollama:";

    /// <summary>How one Hugging Face tensor is read: from a GGUF tensor (or one expert's slice of a stacked one), its
    /// rows un-permuted over <c>PermuteHeads</c> heads when that is above 0, <c>Shift</c> subtracted (Gemma's norms).</summary>
    private sealed record View(GgufTensorInfo Source, int PermuteHeads, double Shift = 0, int? Expert = null);

    private readonly GgufFile _file;
    private readonly Dictionary<string, View> _views;

    private GgufCheckpoint(GgufFile file, Dictionary<string, View> views)
    {
        _file = file;
        _views = views;
    }

    public string FilePath => _file.FilePath;
    public IReadOnlyCollection<string> TensorNames => _views.Keys;
    public long[] Shape(string name) => ViewOf(name).Source.Shape;

    public ScalarType StoredType(string name) => ViewOf(name).Source.Type switch
    {
        GgmlType.F16 => ScalarType.Float16,
        GgmlType.BF16 => ScalarType.BFloat16,
        _ => ScalarType.Float32,
    };

    public Tensor Load(string name, ScalarType? dtype)
    {
        var view = ViewOf(name);
        if (view.PermuteHeads == 0 && view.Shift == 0) return _file.Load(view.Source, dtype ?? StoredType(name));
        using var stored = _file.Load(view.Source, ScalarType.Float32);
        using var unpermuted = view.PermuteHeads > 0 ? RopeRows.ToHuggingFace(stored, view.PermuteHeads) : stored.alias();
        using var unshifted = view.Shift != 0 ? unpermuted - view.Shift : unpermuted.alias();
        return unshifted.to_type(dtype ?? StoredType(name));
    }

    private View ViewOf(string name) =>
        _views.TryGetValue(name, out var view) ? view : throw new CheckpointException($"{FilePath} has no tensor that is '{name}' in Hugging Face's names.", FilePath);

    /// <summary>A path that names a GGUF model: <c>ollama:...</c>, a .gguf file, or a file that starts with "GGUF"
    /// (Ollama's blobs have no extension).</summary>
    public static bool IsGgufReference(string path)
    {
        if (path.StartsWith(OllamaPrefix, StringComparison.Ordinal)) return true;
        if (!File.Exists(path)) return false;
        if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) return true;
        try
        {
            using var stream = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            return stream.Read(magic) == 4 && BitConverter.ToUInt32(magic) == GgufFile.Magic;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Opens a .gguf path or an <c>ollama:name[:tag]</c> reference as a checkpoint.</summary>
    public static CheckpointFolder Open(string reference)
    {
        string path = reference.StartsWith(OllamaPrefix, StringComparison.Ordinal)
            ? OllamaModels.Resolve(reference[OllamaPrefix.Length..])
            : reference;
        var file = GgufFile.Open(path);
        return Open(file);
    }

    public static CheckpointFolder Open(GgufFile file)
    {
        string architecture = file.GetString("general.architecture")
            ?? throw new CheckpointException($"{file.FilePath} has no 'general.architecture' string in its metadata, so the architecture is unknown.", file.FilePath);
        var arch = GgufArchitectures.Find(architecture, file.Metadata)
            ?? throw new CheckpointException($"{file.FilePath}: GGUF architecture '{architecture}' is not supported (supported: {GgufArchitectures.Names}).", file.FilePath);
        var config = Config(file, arch);
        RequireBlockTensors(file, arch, config);
        RequireGlobalTensors(file, arch);
        var views = Views(file, arch, config);
        var json = JsonSerializer.SerializeToElement(config);
        return CheckpointFolder.FromStore(file.FilePath, json, arch.ModelType, new GgufCheckpoint(file, views));
    }

    /// <summary>config.json's keys from metadata <c>{arch}.*</c>, plus vocab_size from token_embd's rows and
    /// tie_word_embeddings from output.weight's absence (llama.cpp then uses the embeddings as the output).</summary>
    private static JsonObject Config(GgufFile file, GgufArchitecture arch)
    {
        foreach (var (suffix, why) in arch.UnsupportedKeys)
            if (file.Metadata.ContainsKey($"{arch.Name}.{suffix}"))
                throw new CheckpointException($"{file.FilePath}: metadata '{arch.Name}.{suffix}' ({why}) is not supported.", file.FilePath);
        var config = new JsonObject { ["model_type"] = arch.ModelType };
        foreach (var (key, value) in arch.FixedConfig) config[key] = JsonValue.Create(value);
        foreach (var key in arch.ConfigKeys)
        {
            string name = $"{arch.Name}.{key.Suffix}";
            if (!file.Metadata.TryGetValue(name, out var value))
            {
                if (key.Required) throw new CheckpointException($"{file.FilePath} has no metadata '{name}' ({key.HfKey}), which a {arch.Name} model needs.", file.FilePath);
                continue;
            }
            if (key.IsInteger ? !value.IsInteger : !value.IsNumber)
                throw new CheckpointException($"{file.FilePath}: metadata '{name}' is {value}, not {(key.IsInteger ? "an integer" : "a number")}"
                    + (value.Type == GgufValueType.Array ? " (per-layer values are not supported)." : "."), file.FilePath);
            config[key.HfKey] = key.IsInteger ? JsonValue.Create((long)value.AsDouble()) : JsonValue.Create(value.AsDouble());
        }
        arch.DeriveConfig?.Invoke(config);
        if (file.Metadata.TryGetValue($"{arch.Name}.attention.value_length", out var valueLength) && config["head_dim"] is { } headDim
            && valueLength.IsInteger && (long)valueLength.AsDouble() != headDim.GetValue<long>())
            throw new CheckpointException($"{file.FilePath}: '{arch.Name}.attention.value_length' ({valueLength}) differs from '{arch.Name}.attention.key_length' ({headDim}); the decoders need one head dimension.", file.FilePath);
        long heads = config["num_attention_heads"]!.GetValue<long>();
        long dim = config["head_dim"]?.GetValue<long>() ?? (heads > 0 ? config["hidden_size"]!.GetValue<long>() / heads : 0);
        if (file.Metadata.TryGetValue($"{arch.Name}.rope.dimension_count", out var rotary) && rotary.IsInteger && (long)rotary.AsDouble() != dim)
            throw new CheckpointException($"{file.FilePath}: '{arch.Name}.rope.dimension_count' is {rotary}, but the head dimension is {dim}; partial rotary embeddings are not supported.", file.FilePath);
        string? scaling = file.GetString($"{arch.Name}.rope.scaling.type");
        if (scaling is not null && scaling != "none" && scaling != "linear")
            throw new CheckpointException($"{file.FilePath}: RoPE scaling '{scaling}' ('{arch.Name}.rope.scaling.type') is not supported (none, linear).", file.FilePath);
        // llama.cpp divides the frequencies by rope.scaling.factor (or the older rope.scale_linear) whatever the type says
        // (Gemma 3: its full layers only; the sliding-window ones stay unscaled).
        var factor = file.Metadata.GetValueOrDefault($"{arch.Name}.rope.scaling.factor") ?? file.Metadata.GetValueOrDefault($"{arch.Name}.rope.scale_linear");
        if (factor is { IsNumber: true } && factor.AsDouble() is double f && f != 0 && f != 1)
            config["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = f };
        GgufRopeFactors.AddTo(config, file, arch, dim);

        if (!file.Contains("token_embd.weight"))
            throw new CheckpointException($"{file.FilePath} has no tensor 'token_embd.weight' (the token embeddings).", file.FilePath);
        config["vocab_size"] = file.Tensor("token_embd.weight").Shape[0];
        config["tie_word_embeddings"] = !file.Contains("output.weight");
        // A family whose q/k/v biases are not LLaMA's attention_bias (qwen2: always there, no o bias) fixes the key in its table.
        if (!arch.FixedConfig.ContainsKey("attention_bias"))
            config["attention_bias"] = file.Contains($"{GgufArchitecture.GgufBlockPrefix}0.attn_q.bias");
        config["mlp_bias"] = file.Contains($"{GgufArchitecture.GgufBlockPrefix}0.ffn_up.bias");
        return config;
    }

    /// <summary>Every block has the tensors llama.cpp requires of the architecture (<see cref="GgufArchitecture.RequiredPerBlock"/>);
    /// a missing one is named in GGUF's terms.</summary>
    private static void RequireBlockTensors(GgufFile file, GgufArchitecture arch, JsonObject config)
    {
        long layers = config["num_hidden_layers"]!.GetValue<long>();
        for (long block = 0; block < layers; block++)
            foreach (var alternatives in arch.RequiredPerBlock)
                if (!alternatives.Any(t => file.Contains($"{GgufArchitecture.GgufBlockPrefix}{block}.{t}")))
                    throw new CheckpointException($"{file.FilePath} has no tensor '{GgufArchitecture.GgufBlockPrefix}{block}.{alternatives[0]}', which every block of a {arch.Name} model{(arch.ModelType != arch.Name ? $" ({arch.ModelType})" : "")} needs.", file.FilePath);
    }

    /// <summary>The global tensors of <see cref="GgufArchitecture.RequiredGlobals"/>, named in GGUF's terms when missing.</summary>
    private static void RequireGlobalTensors(GgufFile file, GgufArchitecture arch)
    {
        if (arch.RequiredGlobals.FirstOrDefault(name => !file.Contains(name)) is { } missing)
            throw new CheckpointException($"{file.FilePath} has no tensor '{missing}', which a {arch.Name} model needs.", file.FilePath);
    }

    /// <summary>Every GGUF tensor as one or more Hugging Face tensors; a tensor the table does not know, or of a type
    /// the reader cannot decode, is an error here, before anything is loaded.</summary>
    private static Dictionary<string, View> Views(GgufFile file, GgufArchitecture arch, JsonObject config)
    {
        var views = new Dictionary<string, View>(StringComparer.Ordinal);
        foreach (var info in file.Tensors)
        {
            file.RequireSupported(info);
            // RoPE factors are configuration (read into rope_scaling by Config), not a parameter.
            if (GgufRopeFactors.TensorNames.Contains(info.Name)) continue;
            if (arch.Globals.TryGetValue(info.Name, out var global))
            {
                views[global] = new View(info, 0, arch.IsShiftedNorm(global) ? arch.NormShift : 0);
                continue;
            }
            if (!TrySplitBlock(info.Name, out int block, out string suffix))
                throw new CheckpointException($"{file.FilePath}: tensor '{info.Name}' has no place in a {arch.Name} model.", file.FilePath);
            string hfBlock = $"{GgufArchitecture.HfBlockPrefix}{block}.";
            if (arch.PerBlock.TryGetValue(suffix, out var hf))
            {
                int heads = arch.RopePermuted.TryGetValue(suffix, out var headsKey)
                    ? (int)(config[headsKey]?.GetValue<long>() ?? config["num_attention_heads"]!.GetValue<long>())
                    : 0;
                if (heads > 0 && info.Shape[0] % (2 * heads) != 0)
                    throw new CheckpointException($"{file.FilePath}: tensor '{info.Name}' has {info.Shape[0]} rows, not a multiple of 2 x {heads} heads ({headsKey}).", file.FilePath);
                views[hfBlock + hf] = new View(info, heads, arch.IsShiftedNorm(hf) ? arch.NormShift : 0);
            }
            else if (arch.StackedExperts.TryGetValue(suffix, out var expertName))
            {
                if (info.Dims.Length != 3)
                    throw new CheckpointException($"{file.FilePath}: tensor '{info.Name}' has shape [{string.Join(", ", info.Shape)}]; stacked experts are [experts, rows, columns].", file.FilePath);
                long perExpert = info.ByteCount / info.Dims[2];
                for (int e = 0; e < info.Dims[2]; e++)
                    views[hfBlock + string.Format(CultureInfo.InvariantCulture, expertName, e)] =
                        new View(info with { Dims = info.Dims[..2], Offset = info.Offset + e * perExpert, ByteCount = perExpert }, 0, Expert: e);
            }
            else
            {
                throw new CheckpointException($"{file.FilePath}: tensor '{info.Name}' has no place in a {arch.Name} model.", file.FilePath);
            }
        }
        return views;
    }

    /// <summary>A Hugging Face name with the GGUF tensor it is read from, for messages about its shape.</summary>
    public string Describe(string name) =>
        _views.TryGetValue(name, out var view)
            ? $"'{name}' (GGUF tensor '{view.Source.Name}'{(view.Expert is { } e ? $", expert {e}" : "")})"
            : $"'{name}'";

    /// <summary>"blk.12.attn_q.weight" into 12 and "attn_q.weight".</summary>
    internal static bool TrySplitBlock(string name, out int block, out string suffix)
    {
        block = -1;
        suffix = "";
        if (!name.StartsWith(GgufArchitecture.GgufBlockPrefix, StringComparison.Ordinal)) return false;
        int dot = name.IndexOf('.', GgufArchitecture.GgufBlockPrefix.Length);
        if (dot < 0 || !int.TryParse(name.AsSpan(GgufArchitecture.GgufBlockPrefix.Length, dot - GgufArchitecture.GgufBlockPrefix.Length),
                NumberStyles.None, CultureInfo.InvariantCulture, out block)) return false;
        suffix = name[(dot + 1)..];
        return true;
    }
}
