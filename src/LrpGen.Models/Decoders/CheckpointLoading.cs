using System;
using System.Linq;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>Maps a decoder's parameters to Hugging Face tensor names ("layers.0.mlp.up_proj.weight" is
/// "model.layers.0.mlp.up_proj.weight"), including experts stored fused (transformers 5) or per expert (Hub).</summary>
internal static class CheckpointLoading
{
    public static void LoadWeights(nn.Module module, WeightAssigner assigner, DecoderConfig config, IProgress<string>? progress)
    {
        var checkpoint = assigner.Checkpoint;
        var dtype = assigner.DType;
        var parameters = module.named_parameters().ToList();
        int done = 0;
        foreach (var (name, parameter) in parameters)
        {
            string hf = name.StartsWith("lm_head.", StringComparison.Ordinal) ? name : "model." + name;
            if (checkpoint.Contains(hf)) assigner.Assign(hf, parameter);
            else if (name == "lm_head.weight" && config.TieWordEmbeddings) assigner.Assign("model.embed_tokens.weight", parameter);
            else if (TryFusedExpert(name, checkpoint, assigner, parameter, config, dtype)) { }
            else assigner.Assign(hf, parameter); // reports the missing tensor with the file's name
            if (++done % 16 == 0) progress?.Report($"loaded {done}/{parameters.Count} tensors");
        }
        progress?.Report($"loaded {parameters.Count} tensors");
        assigner.EnsureAllUsed("rotary_emb.inv_freq");
    }

    /// <summary>GPT-2 names ("transformer.h.0.attn.c_attn.weight"); Conv1D weights are stored [in, out] and are
    /// copied transposed into our Linear layers.</summary>
    public static void LoadGpt2Weights(nn.Module module, WeightAssigner assigner, DecoderConfig config, IProgress<string>? progress)
    {
        var checkpoint = assigner.Checkpoint;
        var dtype = assigner.DType;
        foreach (var (name, parameter) in module.named_parameters())
        {
            var parts = name.Split('.');
            if (name == "lm_head.weight")
            {
                assigner.Assign(checkpoint.Contains(name) || !config.TieWordEmbeddings ? name : "transformer.wte.weight", parameter);
                continue;
            }
            if (parts[0] != "layers")
            {
                assigner.Assign("transformer." + name, parameter);
                continue;
            }
            string block = $"transformer.h.{parts[1]}.";
            string hf = parts[2] switch
            {
                "c_attn" => block + "attn.c_attn." + parts[3],
                "attn_proj" => block + "attn.c_proj." + parts[3],
                "c_fc" => block + "mlp.c_fc." + parts[3],
                "mlp_proj" => block + "mlp.c_proj." + parts[3],
                _ => block + string.Join(".", parts.Skip(2)),
            };
            if (parts[3] == "weight" && parts[2] is "c_attn" or "attn_proj" or "c_fc" or "mlp_proj")
                AssignTransposed(checkpoint, assigner, hf, parameter, dtype);
            else
                assigner.Assign(hf, parameter);
        }
        progress?.Report("loaded GPT-2 weights");
        assigner.EnsureAllUsed("attn.bias", "attn.masked_bias");
    }

    private static void AssignTransposed(CheckpointFolder checkpoint, WeightAssigner assigner, string name, Tensor target, ScalarType dtype)
    {
        if (!checkpoint.Contains(name))
            throw new CheckpointException($"{checkpoint.WeightsPath} has no tensor '{name}'.", checkpoint.WeightsPath);
        var shape = checkpoint.Shape(name);
        var expected = new[] { target.shape[1], target.shape[0] };
        if (!shape.SequenceEqual(expected))
            throw new CheckpointException(
                $"Tensor '{name}' in {checkpoint.FileOf(name)} has shape [{string.Join(", ", shape)}]; the model expects the Conv1D layout [{string.Join(", ", expected)}].",
                checkpoint.FileOf(name));
        assigner.MarkUsed(name);
        if (assigner.ShapesOnly) return;
        using var stored = checkpoint.Load(name, dtype);
        using var transposed = stored.t();
        using (torch.no_grad()) target.copy_(transposed);
    }

    /// <summary>layers.{i}.mlp.experts.{e}.{gate,up,down}_proj.weight from mlp.experts.gate_up_proj [E, 2I, H]
    /// (gate rows first) and mlp.experts.down_proj [E, H, I].</summary>
    private static bool TryFusedExpert(string name, CheckpointFolder checkpoint, WeightAssigner assigner, Tensor target, DecoderConfig config, ScalarType dtype)
    {
        var parts = name.Split('.');
        // layers . i . mlp . experts . e . proj . weight
        if (parts.Length != 7 || parts[0] != "layers" || parts[2] != "mlp" || parts[3] != "experts" || parts[6] != "weight") return false;
        int expert = int.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture);
        string prefix = $"model.layers.{parts[1]}.mlp.experts.";
        string fused = parts[5] == "down_proj" ? prefix + "down_proj" : prefix + "gate_up_proj";
        if (!checkpoint.Contains(fused)) return false;
        var shape = checkpoint.Shape(fused);
        long i = config.MoeIntermediateSize, h = config.HiddenSize, e = config.Experts;
        var expected = parts[5] == "down_proj" ? new[] { e, h, i } : new[] { e, 2 * i, h };
        if (!shape.SequenceEqual(expected))
            throw new CheckpointException(
                $"Tensor '{fused}' in {checkpoint.FileOf(fused)} has shape [{string.Join(", ", shape)}]; the model expects [{string.Join(", ", expected)}].",
                checkpoint.FileOf(fused));
        assigner.MarkUsed(fused);
        if (assigner.ShapesOnly) return true;
        using var all = checkpoint.Load(fused, dtype);
        using var slice = parts[5] switch
        {
            "gate_proj" => all[expert].narrow(0, 0, i),
            "up_proj" => all[expert].narrow(0, i, i),
            _ => all[expert].alias(),
        };
        using (torch.no_grad()) target.copy_(slice);
        return true;
    }
}
