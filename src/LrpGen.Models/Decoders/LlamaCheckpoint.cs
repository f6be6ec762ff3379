using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>Writes a <see cref="LlamaForCausalLM"/> as a Hugging Face folder (config.json and model.safetensors,
/// float32) that <see cref="CausalLm.Load"/> (and transformers) read back.</summary>
public static class LlamaCheckpoint
{
    public static void Save(LlamaForCausalLM model, DecoderConfig config, string folder)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (config is null) throw new ArgumentNullException(nameof(config));
        if (config.ModelType != "llama") throw new ArgumentException($"model_type must be llama, got '{config.ModelType}'.", nameof(config));
        Directory.CreateDirectory(folder);
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, parameter) in model.named_parameters())
                tensors[name.StartsWith("lm_head.", StringComparison.Ordinal) ? name : "model." + name] = parameter.detach().to(ScalarType.Float32);
            SafetensorsFile.Write(Path.Combine(folder, "model.safetensors"), tensors);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        File.WriteAllText(Path.Combine(folder, "config.json"), ConfigJson(config) + "\n");
    }

    /// <summary>config.json for a llama <see cref="DecoderConfig"/>.</summary>
    public static string ConfigJson(DecoderConfig config)
    {
        var json = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" },
            ["model_type"] = "llama",
            ["vocab_size"] = config.VocabSize,
            ["hidden_size"] = config.HiddenSize,
            ["intermediate_size"] = config.IntermediateSize,
            ["num_hidden_layers"] = config.Layers,
            ["num_attention_heads"] = config.Heads,
            ["num_key_value_heads"] = config.KvHeads,
            ["head_dim"] = config.HeadDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = config.RmsNormEps,
            ["rope_theta"] = config.RopeTheta,
            ["max_position_embeddings"] = Math.Max(config.MaxPositions, 64),
            ["attention_bias"] = config.AttentionBias,
            ["mlp_bias"] = config.MlpBias,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "float32",
        };
        return JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true });
    }
}
