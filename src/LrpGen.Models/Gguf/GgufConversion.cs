using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Gguf;

/// <summary>Writes a Hugging Face folder as GGUF the way llama.cpp's converter lays it out, through the same table
/// the reader uses (<see cref="GgufArchitectures"/>): config keys as <c>{arch}.*</c> metadata, tensors renamed, q/k rows
/// permuted for the LLaMA family, experts stacked, a tied lm_head left out. Tensors are stored as float32, float16 or
/// bfloat16; quantize the result with llama.cpp. The tokenizer's metadata (tokenizer.ggml.*) is the caller's to add.</summary>
public static class GgufConversion
{
    public static void FromHuggingFace(string folder, string ggufPath, ScalarType storeAs = ScalarType.Float32,
        IEnumerable<KeyValuePair<string, GgufValue>>? extraMetadata = null)
    {
        var checkpoint = CheckpointFolder.Open(folder);
        var arch = GgufArchitectures.ForModelType(checkpoint.ModelType)
            ?? throw new CheckpointException($"{checkpoint.ConfigPath}: model_type '{checkpoint.ModelType}' has no GGUF table (supported: {string.Join(", ", GgufArchitectures.ConvertibleModelTypes)}).", checkpoint.ConfigPath);
        var metadata = Metadata(checkpoint, arch);
        using (var scope = torch.NewDisposeScope())
        {
            var rope = GgufRopeFactors.For(Decoders.DecoderConfig.From(checkpoint), arch, checkpoint.ConfigPath);
            metadata.AddRange(rope.Metadata);
            if (extraMetadata is not null) metadata.AddRange(extraMetadata);
            var tensors = Tensors(checkpoint, arch, storeAs);
            // The factors stay float32 whatever the weights' type, as llama.cpp's converter and quantizer keep them.
            GgufWriter.Write(ggufPath, metadata, rope.Tensors.Concat(tensors));
        }
        RequireSameComputation(checkpoint, arch, ggufPath);
    }

    /// <summary>Reads the written file back as llama.cpp's metadata describes it and compares what the model computes
    /// with the folder's: a setting the architecture cannot store (llama.cpp derives Gemma's attention scale from the
    /// model size and reads Gemma's layers only as "every n-th full"; a window that GGUF's "llama" drops) would make the
    /// GGUF another model, so the file is deleted and the setting named.</summary>
    private static void RequireSameComputation(CheckpointFolder checkpoint, GgufArchitecture arch, string ggufPath)
    {
        var folder = Decoders.DecoderConfig.From(checkpoint);
        var gguf = Decoders.DecoderConfig.From(GgufCheckpoint.Open(GgufFile.Open(ggufPath)));
        foreach (var (setting, expected, stored) in Decoders.DecoderComputation.Differences(folder, gguf))
        {
            System.IO.File.Delete(ggufPath);
            throw new CheckpointException($"{checkpoint.ConfigPath}: {setting} is {expected}, but a GGUF '{arch.Name}' file makes llama.cpp compute {stored} (it fixes or derives that setting for the architecture); load the Hugging Face folder instead.", checkpoint.ConfigPath);
        }
    }

    private static List<KeyValuePair<string, GgufValue>> Metadata(CheckpointFolder checkpoint, GgufArchitecture arch)
    {
        // The checked configuration: rope_theta wherever config.json keeps it (rope_parameters too), head counts defaulted.
        var decoder = Decoders.DecoderConfig.From(checkpoint);
        // llama3 and longrope scaling are written as factor tensors (GgufRopeFactors), linear as metadata below.
        // GGUF's dense architectures here carry no sliding window (llama.cpp attends to the whole context): a window
        // shorter than the context would be lost, and the GGUF would compute another model.
        bool storesWindow = arch.ConfigKeys.Any(k => k.HfKey == "sliding_window");
        if (!storesWindow && decoder.HasSlidingLayers && decoder.MaxPositions == 0)
            throw new CheckpointException($"{checkpoint.ConfigPath}: sliding_window {decoder.SlidingWindow} is set but max_position_embeddings is absent, and GGUF architecture '{arch.Name}' stores no window; add max_position_embeddings (at most the window) or load the Hugging Face folder instead.", checkpoint.ConfigPath);
        if (!storesWindow && decoder.HasSlidingLayers && decoder.SlidingWindow < decoder.MaxPositions)
            throw new CheckpointException($"{checkpoint.ConfigPath}: sliding_window {decoder.SlidingWindow} is shorter than max_position_embeddings {decoder.MaxPositions}, and GGUF architecture '{arch.Name}' stores no window; load the Hugging Face folder instead.", checkpoint.ConfigPath);
        var metadata = new List<KeyValuePair<string, GgufValue>>
        {
            new("general.architecture", GgufValue.String(arch.Name)),
            new("general.name", GgufValue.String(System.IO.Path.GetFileName(checkpoint.FolderPath))),
        };
        foreach (var key in arch.ConfigKeys)
        {
            // A Qwen3-MoE's intermediate_size is required in config.json but unused by the model (0 in DecoderConfig).
            // So is Phi-3's original_max_position_embeddings without longrope.
            bool raw = key.HfKey == "intermediate_size"
                || (key.HfKey == "original_max_position_embeddings" && decoder.RopeScaling is not Decoders.LongRopeScaling);
            double? value = raw ? checkpoint.Values.GetOptionalInt(key.HfKey) : DecoderValue(key.HfKey, decoder);
            if (value is not double v) continue;
            // As llama.cpp's converter: what the architecture takes by default is left out (Gemma's layer pattern).
            if (!key.Required && arch.FixedConfig.TryGetValue(key.HfKey, out var fixedValue) && Convert.ToDouble(fixedValue, CultureInfo.InvariantCulture) == v) continue;
            metadata.Add(new($"{arch.Name}.{key.Suffix}", key.IsInteger ? GgufValue.UInt32(checked((uint)v)) : GgufValue.Float32((float)v)));
        }
        int headDim = decoder.HeadDim;
        metadata.Add(new($"{arch.Name}.attention.value_length", GgufValue.UInt32((uint)headDim)));
        metadata.Add(new($"{arch.Name}.rope.dimension_count", GgufValue.UInt32((uint)headDim)));
        metadata.Add(new($"{arch.Name}.vocab_size", GgufValue.UInt32(checked((uint)decoder.VocabSize))));
        if (decoder.RopeScaling is Decoders.LinearRopeScaling linear)
        {
            metadata.Add(new($"{arch.Name}.rope.scaling.type", GgufValue.String("linear")));
            metadata.Add(new($"{arch.Name}.rope.scaling.factor", GgufValue.Float32((float)linear.Factor)));
        }
        return metadata;
    }

    /// <summary>A config key's checked value (defaults applied, alternative spellings such as num_local_experts read);
    /// null where the model does not have it.</summary>
    private static double? DecoderValue(string hfKey, Decoders.DecoderConfig d) => hfKey switch
    {
        "max_position_embeddings" => d.MaxPositions > 0 ? d.MaxPositions : null,
        "hidden_size" => d.HiddenSize,
        "num_hidden_layers" => d.Layers,
        "num_attention_heads" => d.Heads,
        "num_key_value_heads" => d.KvHeads,
        "head_dim" => d.HeadDim,
        "rms_norm_eps" => d.RmsNormEps,
        "rope_theta" => d.RopeTheta,
        "num_experts" or "num_local_experts" => d.Experts,
        "original_max_position_embeddings" => d.RopeScaling is Decoders.LongRopeScaling l ? l.OriginalMaxPositions : null,
        "num_experts_per_tok" => d.ExpertsPerToken,
        "moe_intermediate_size" => d.MoeIntermediateSize,
        "sliding_window" => d.SlidingWindow > 0 ? d.SlidingWindow : null,
        "sliding_window_pattern" => SlidingPeriod(d),
        "rope_local_base_freq" => d.LocalRopeTheta > 0 ? d.LocalRopeTheta : null,
        "attn_logit_softcapping" => d.AttentionSoftcap > 0 ? d.AttentionSoftcap : null,
        "final_logit_softcapping" => d.FinalLogitSoftcap > 0 ? d.FinalLogitSoftcap : null,
        _ => throw new InvalidOperationException($"the GGUF table names config key '{hfKey}', which the conversion does not know."),
    };

    /// <summary>Gemma's norm weights plus 1, as llama.cpp's converter stores them (its RMSNorm multiplies by the weight).</summary>
    private static Tensor Shifted(GgufArchitecture arch, string hfName, Tensor tensor) =>
        arch.IsShiftedNorm(hfName) ? tensor + arch.NormShift : tensor;

    /// <summary>The n for which exactly every n-th layer is full (llama.cpp's sliding_window_pattern); null when the
    /// layers follow no such pattern (the conversion's read-back then names the first layer that differs).</summary>
    private static double? SlidingPeriod(Decoders.DecoderConfig d)
    {
        if (!d.HasSlidingLayers) return null;
        for (int n = 1; n <= d.Layers + 1; n++)
            if (Enumerable.Range(0, d.Layers).All(l => d.IsSliding(l) == ((l + 1) % n != 0))) return n;
        return null;
    }

    /// <summary>A per-block name with <c>{0}</c> for the expert as a regular expression capturing the expert.</summary>
    private static Regex ExpertPattern(string name) =>
        new("^" + Regex.Escape(name).Replace(@"\{0}", @"(\d+)") + "$", RegexOptions.CultureInvariant);

    /// <summary>The table's name for a block suffix the table knows under an alias (Mixtral's Hub names).</summary>
    private static string Unalias(string suffix, List<(Regex Pattern, string Table)> aliases)
    {
        foreach (var (pattern, table) in aliases)
            if (pattern.Match(suffix) is { Success: true } m)
                return m.Groups.Count > 1 ? string.Format(CultureInfo.InvariantCulture, table, m.Groups[1].Value) : table;
        return suffix;
    }

    private static readonly Regex BlockName = new(@"^model\.layers\.(\d+)\.(.+)$", RegexOptions.CultureInvariant);

    private static List<KeyValuePair<string, Tensor>> Tensors(CheckpointFolder checkpoint, GgufArchitecture arch, ScalarType storeAs)
    {
        var c = checkpoint.Values;
        var globals = arch.Globals.ToDictionary(p => p.Value, p => p.Key);
        var perBlock = arch.PerBlock.ToDictionary(p => p.Value, p => p.Key);
        var experts = arch.StackedExperts.Select(p => (Gguf: p.Key, Pattern: ExpertPattern(p.Value))).ToList();
        var aliases = arch.HfAliases.Select(p => (Pattern: ExpertPattern(p.Key), Table: p.Value)).ToList();
        bool tied = c.GetBool("tie_word_embeddings", false);
        var result = new List<KeyValuePair<string, Tensor>>();
        var stacked = new SortedDictionary<string, SortedDictionary<int, Tensor>>(StringComparer.Ordinal);
        foreach (var name in checkpoint.TensorNames.OrderBy(n => n, StringComparer.Ordinal))
        {
            if (name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (tied && name == "lm_head.weight")) continue;
            var tensor = checkpoint.Load(name, ScalarType.Float32);
            if (globals.TryGetValue(name, out var global))
            {
                result.Add(new(global, Shifted(arch, name, tensor).to_type(storeAs)));
                continue;
            }
            var match = BlockName.Match(name);
            if (!match.Success) throw new CheckpointException($"{checkpoint.WeightsPath}: tensor '{name}' has no GGUF name in the {arch.Name} table.", checkpoint.WeightsPath);
            string block = match.Groups[1].Value, suffix = Unalias(match.Groups[2].Value, aliases);
            if (perBlock.TryGetValue(suffix, out var gguf))
            {
                if (arch.RopePermuted.TryGetValue(gguf, out var headsKey))
                    tensor = RopeRows.ToGguf(tensor, c.GetOptionalInt(headsKey) ?? c.GetInt("num_attention_heads"));
                result.Add(new($"{GgufArchitecture.GgufBlockPrefix}{block}.{gguf}", Shifted(arch, suffix, tensor).to_type(storeAs)));
                continue;
            }
            // transformers 5 stores the experts fused: mlp.experts.gate_up_proj [E, 2I, H] (gate rows first) and
            // mlp.experts.down_proj [E, H, I], already GGUF's stacked layout.
            if (suffix is "mlp.experts.gate_up_proj" or "mlp.experts.down_proj" && arch.StackedExperts.Count > 0)
            {
                string prefix = $"{GgufArchitecture.GgufBlockPrefix}{block}.";
                if (suffix == "mlp.experts.down_proj") result.Add(new(prefix + "ffn_down_exps.weight", tensor.to_type(storeAs)));
                else
                {
                    long half = tensor.shape[1] / 2;
                    result.Add(new(prefix + "ffn_gate_exps.weight", tensor.narrow(1, 0, half).contiguous().to_type(storeAs)));
                    result.Add(new(prefix + "ffn_up_exps.weight", tensor.narrow(1, half, half).contiguous().to_type(storeAs)));
                }
                continue;
            }
            var expert = experts.Select(e => (e.Gguf, Match: e.Pattern.Match(suffix))).FirstOrDefault(e => e.Match.Success);
            if (expert.Match is null)
                throw new CheckpointException($"{checkpoint.WeightsPath}: tensor '{name}' has no GGUF name in the {arch.Name} table.", checkpoint.WeightsPath);
            string key = $"{GgufArchitecture.GgufBlockPrefix}{block}.{expert.Gguf}";
            if (!stacked.TryGetValue(key, out var byExpert)) stacked[key] = byExpert = new SortedDictionary<int, Tensor>();
            byExpert[int.Parse(expert.Match.Groups[1].Value, CultureInfo.InvariantCulture)] = tensor;
        }
        foreach (var (name, byExpert) in stacked)
            result.Add(new(name, torch.stack(byExpert.Values.ToArray()).to_type(storeAs)));
        return result;
    }
}
