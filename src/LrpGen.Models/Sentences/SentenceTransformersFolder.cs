using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>What a sentence-transformers folder says about the model around its encoder: modules.json lists the
/// modules in order (Transformer, Pooling, optional Dense, optional Normalize); 1_Pooling/config.json the pooling
/// mode; 2_Dense/config.json and its model.safetensors the Dense layer; sentence_bert_config.json the length limit.
/// A folder without modules.json is a plain Hugging Face encoder: pooling and normalisation must then be given.</summary>
public sealed record SentenceTransformersFolder(string Root, string EncoderFolder, bool HasModules, PoolingMode? Pooling, string? PoolingConfigPath,
    int? PoolingDimension, bool Normalize, DenseLayerConfig? Dense, string? DenseWeightsPath, int? MaxSeqLength)
{
    public const string ModulesFileName = "modules.json";
    public const string SentenceBertConfigFileName = "sentence_bert_config.json";

    private const string TanhActivation = "torch.nn.modules.activation.Tanh";
    private const string IdentityActivation = "torch.nn.modules.linear.Identity";

    public static SentenceTransformersFolder Read(string folder)
    {
        string root = Path.GetFullPath(folder);
        string modulesPath = Path.Combine(root, ModulesFileName);
        if (!File.Exists(modulesPath))
            return new SentenceTransformersFolder(root, root, false, null, null, null, false, null, null, ReadMaxSeqLength(root));

        string? encoder = null, poolingPath = null, densePath = null;
        bool normalize = false;
        using (var doc = Parse(modulesPath))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{modulesPath}: expected a JSON array of modules.");
            foreach (var module in doc.RootElement.EnumerateArray())
            {
                string type = String(module, "type", modulesPath);
                string path = module.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
                string kind = type.Split('.').Last();
                switch (kind)
                {
                    case "Transformer" when encoder is null: encoder = Path.Combine(root, path); break;
                    case "Pooling" when poolingPath is null && encoder is not null: poolingPath = Path.Combine(root, path); break;
                    case "Dense" when densePath is null && poolingPath is not null: densePath = Path.Combine(root, path); break;
                    case "Normalize" when !normalize && poolingPath is not null: normalize = true; break;
                    default:
                        throw new InvalidDataException($"{modulesPath}: module '{type}' (path '{path}') is not supported here; supported: "
                            + "one Transformer, then one Pooling, then optionally one Dense and a Normalize.");
                }
            }
        }
        if (encoder is null) throw new InvalidDataException($"{modulesPath}: no sentence_transformers.models.Transformer module.");
        if (poolingPath is null) throw new InvalidDataException($"{modulesPath}: no sentence_transformers.models.Pooling module after the Transformer.");
        string poolingConfig = Path.Combine(poolingPath, "config.json");
        var (pooling, dimension) = ReadPooling(poolingConfig);
        DenseLayerConfig? dense = null;
        string? denseWeights = null;
        if (densePath is not null) (dense, denseWeights) = ReadDense(densePath);
        return new SentenceTransformersFolder(root, encoder, true, pooling, poolingConfig, dimension, normalize, dense, denseWeights,
            ReadMaxSeqLength(encoder) ?? ReadMaxSeqLength(root));
    }

    /// <summary>1_Pooling/config.json: exactly one of the supported <c>pooling_mode_*</c> flags set.</summary>
    private static (PoolingMode Mode, int? Dimension) ReadPooling(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The pooling module's configuration {path} does not exist.", path);
        using var doc = Parse(path);
        var root = doc.RootElement;
        var supported = new (string Key, PoolingMode Mode)[]
        {
            ("pooling_mode_cls_token", PoolingMode.Cls), ("pooling_mode_mean_tokens", PoolingMode.Mean),
            ("pooling_mode_max_tokens", PoolingMode.Max), ("pooling_mode_lasttoken", PoolingMode.LastToken),
        };
        foreach (string other in new[] { "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens" })
            if (Flag(root, other, path))
                throw new InvalidDataException($"{path}: '{other}' is not supported here; supported: {string.Join(", ", supported.Select(s => s.Key))}.");
        var set = supported.Where(s => Flag(root, s.Key, path)).ToArray();
        if (set.Length != 1)
            throw new InvalidDataException(set.Length == 0
                ? $"{path} sets no pooling mode: set one of {string.Join(", ", supported.Select(s => s.Key))} to true, or give the pooling (--pooling cls|mean|max|last)."
                : $"{path} sets {set.Length} pooling modes ({string.Join(", ", set.Select(s => s.Key))}), whose concatenation is not supported: set one.");
        int? dimension = root.TryGetProperty("word_embedding_dimension", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : null;
        return (set[0].Mode, dimension);
    }

    /// <summary>2_Dense/config.json (in_features, out_features, bias, activation_function) and its model.safetensors.</summary>
    private static (DenseLayerConfig Config, string WeightsPath) ReadDense(string folder)
    {
        string path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"The Dense module's configuration {path} does not exist.", path);
        using var doc = Parse(path);
        var root = doc.RootElement;
        int Size(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n > 0
            ? n
            : throw new InvalidDataException($"{path}: '{key}' must be a positive integer.");
        bool bias = !root.TryGetProperty("bias", out var b) || b.ValueKind != JsonValueKind.False;
        string activation = root.TryGetProperty("activation_function", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : TanhActivation;
        bool tanh = activation switch
        {
            TanhActivation => true,
            IdentityActivation => false,
            _ => throw new InvalidDataException($"{path}: activation_function '{activation}' is not supported here; supported: {TanhActivation}, {IdentityActivation}."),
        };
        string weights = Path.Combine(folder, CheckpointFolder.SingleFileName);
        if (!File.Exists(weights))
            throw new FileNotFoundException($"The Dense module has no {CheckpointFolder.SingleFileName} at {weights} (a pytorch_model.bin is not read: convert it to safetensors).", weights);
        return (new DenseLayerConfig(Size("in_features"), Size("out_features"), bias, tanh), weights);
    }

    /// <summary>Copies 2_Dense's <c>linear.weight</c> (and <c>linear.bias</c>) into the head's Dense layer, shapes checked.</summary>
    public void LoadDense(SentenceHead head)
    {
        if (Dense is null || DenseWeightsPath is null || head.dense is null) return;
        var file = SafetensorsFile.Open(DenseWeightsPath);
        void Assign(string name, Tensor target)
        {
            if (!file.Contains(name))
                throw new InvalidDataException($"{DenseWeightsPath} has no tensor '{name}'.");
            var shape = file.Shape(name);
            if (!shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{DenseWeightsPath}: '{name}' has shape [{string.Join(", ", shape)}], expected [{string.Join(", ", target.shape)}].");
            using var loaded = file.Load(name);
            using var converted = loaded.to(target.dtype);
            using (torch.no_grad()) target.copy_(converted);
        }
        Assign("linear.weight", head.dense.weight);
        if (head.dense.bias is { } bias) Assign("linear.bias", bias);
        var unused = file.TensorNames.Where(n => n != "linear.weight" && !(n == "linear.bias" && head.dense.bias is not null)).ToArray();
        if (unused.Length > 0)
            throw new InvalidDataException($"{DenseWeightsPath} has tensors the Dense layer does not take: {string.Join(", ", unused)}.");
    }

    private static int? ReadMaxSeqLength(string folder)
    {
        string path = Path.Combine(folder, SentenceBertConfigFileName);
        if (!File.Exists(path)) return null;
        using var doc = Parse(path);
        if (!doc.RootElement.TryGetProperty("max_seq_length", out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 2
            ? n
            : throw new InvalidDataException($"{path}: 'max_seq_length' must be an integer of at least 2.");
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static string String(JsonElement e, string key, string path) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new InvalidDataException($"{path}: a module without a '{key}' string.");

    private static bool Flag(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var v)) return false;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw new InvalidDataException($"{path}: '{key}' is {v.GetRawText()}, not true or false."),
        };
    }
}
