using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Gguf;

/// <summary>RoPE frequency factors as GGUF stores them, both directions. llama.cpp divides each inverse frequency by
/// its factor (ggml_rope_ext's freq_factors) and multiplies cos and sin by <c>{arch}.rope.scaling.attn_factor</c>
/// (1 when absent): Llama 3.1/3.2 keep their llama3 scaling as one list, <c>rope_freqs.weight</c>; Phi-3 keeps longrope
/// as <c>rope_factors_short.weight</c> and <c>rope_factors_long.weight</c>, the long ones used when the context exceeds
/// <c>{arch}.rope.scaling.original_context_length</c>. Read, both are Hugging Face's longrope computation
/// (inverse frequency i divided by factor i, cos/sin times the attention factor; llama3's one list as both lists), so
/// they enter the configuration as a longrope rope_scaling section.</summary>
public static class GgufRopeFactors
{
    public const string Frequencies = "rope_freqs.weight";
    public const string Long = "rope_factors_long.weight";
    public const string Short = "rope_factors_short.weight";

    /// <summary>The GGUF tensors that hold factors (configuration, not parameters).</summary>
    public static IReadOnlySet<string> TensorNames { get; } = new HashSet<string>(StringComparer.Ordinal) { Frequencies, Long, Short };

    private static string AttentionFactorKey(GgufArchitecture arch) => $"{arch.Name}.rope.scaling.attn_factor";

    /// <summary>Adds the file's factors to <paramref name="config"/> as rope_scaling (longrope form); nothing when the
    /// file has none and no attention factor other than 1.</summary>
    public static void AddTo(JsonObject config, GgufFile file, GgufArchitecture arch, long headDim)
    {
        double attention = 1.0;
        if (file.Metadata.TryGetValue(AttentionFactorKey(arch), out var value))
        {
            if (!value.IsNumber || !(value.AsDouble() > 0))
                throw new CheckpointException($"{file.FilePath}: metadata '{AttentionFactorKey(arch)}' is {value}, not a positive number.", file.FilePath);
            attention = value.AsDouble();
        }
        double[]? shortFactors = null, longFactors = null;
        if (file.Contains(Frequencies))
        {
            if (arch.LongRope)
                throw new CheckpointException($"{file.FilePath}: tensor '{Frequencies}' has no place in a {arch.Name} model (its RoPE factors are '{Short}' and '{Long}').", file.FilePath);
            shortFactors = longFactors = Factors(file, Frequencies, headDim);
        }
        else if (file.Contains(Long) || file.Contains(Short))
        {
            if (!arch.LongRope)
                throw new CheckpointException($"{file.FilePath}: tensor '{(file.Contains(Long) ? Long : Short)}' (longrope factors) has no place in a {arch.Name} model.", file.FilePath);
            foreach (var (present, missing) in new[] { (Long, Short), (Short, Long) })
                if (file.Contains(present) && !file.Contains(missing))
                    throw new CheckpointException($"{file.FilePath} has '{present}' but no tensor '{missing}'; longrope needs both.", file.FilePath);
            shortFactors = Factors(file, Short, headDim);
            longFactors = Factors(file, Long, headDim);
        }
        else if (attention != 1.0)
        {
            shortFactors = longFactors = Enumerable.Repeat(1.0, (int)(headDim / 2)).ToArray();
        }
        if (shortFactors is null || longFactors is null) return;
        if (config["rope_scaling"] is not null)
            throw new CheckpointException($"{file.FilePath} has RoPE factors and a RoPE scaling factor ('{arch.Name}.rope.scaling.factor') together, which is not supported.", file.FilePath);
        config["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "longrope",
            ["short_factor"] = new JsonArray(shortFactors.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray()),
            ["long_factor"] = new JsonArray(longFactors.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray()),
            ["attention_factor"] = attention,
        };
    }

    private static double[] Factors(GgufFile file, string name, long headDim)
    {
        var info = file.Tensor(name);
        if (info.Dims.Length != 1 || info.Dims[0] != headDim / 2)
            throw new CheckpointException($"{file.FilePath}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}]; the model expects [{headDim / 2}] (head dimension / 2).", file.FilePath);
        using var values = file.Load(info, ScalarType.Float64);
        var factors = values.data<double>().ToArray();
        if (factors.Any(f => !(f > 0) || double.IsInfinity(f)))
            throw new CheckpointException($"{file.FilePath}: tensor '{name}' holds a factor that is not a positive finite number.", file.FilePath);
        return factors;
    }

    /// <summary>The metadata and tensors that store <paramref name="config"/>'s RoPE scaling in GGUF as llama.cpp's
    /// converter writes them: llama3 as rope_freqs.weight (architecture llama only, where llama.cpp reads it), longrope
    /// as the two factor lists with the attention factor (architectures that store longrope: phi3). Other scalings are
    /// a one-line error.</summary>
    public static (List<KeyValuePair<string, GgufValue>> Metadata, List<KeyValuePair<string, Tensor>> Tensors) For(
        DecoderConfig config, GgufArchitecture arch, string configPath)
    {
        var metadata = new List<KeyValuePair<string, GgufValue>>();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        switch (config.RopeScaling)
        {
            case null or LinearRopeScaling:
                // Linear scaling is metadata (rope.scaling.factor), written with the rest of it.
                break;
            case Llama3RopeScaling when arch.Name == GgufArchitectures.Llama.Name:
            {
                // llama.cpp's factors: the unscaled inverse frequencies over the scaled ones.
                using var plain = Rotary.InverseFrequencies(config, config.RopeTheta, null, beyondOriginal: false);
                using var scaled = Rotary.InverseFrequencies(config, config.RopeTheta, config.RopeScaling, beyondOriginal: false);
                tensors.Add(new(Frequencies, plain.to_type(ScalarType.Float64).div(scaled.to_type(ScalarType.Float64)).to_type(ScalarType.Float32)));
                break;
            }
            case LongRopeScaling l when arch.LongRope:
                metadata.Add(new(AttentionFactorKey(arch), GgufValue.Float32((float)l.AttentionFactor)));
                tensors.Add(new(Short, torch.tensor(l.ShortFactor.ToArray()).to_type(ScalarType.Float32)));
                tensors.Add(new(Long, torch.tensor(l.LongFactor.ToArray()).to_type(ScalarType.Float32)));
                break;
            default:
                string kind = config.RopeScaling is Llama3RopeScaling ? "llama3" : "longrope";
                throw new CheckpointException($"{configPath}: {kind} RoPE scaling has no GGUF form in architecture '{arch.Name}' that llama.cpp reads (llama3: llama; longrope: phi3); load the Hugging Face folder instead.", configPath);
        }
        return (metadata, tensors);
    }
}
