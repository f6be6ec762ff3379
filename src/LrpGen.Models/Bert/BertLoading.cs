using System;
using System.Linq;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Bert;

/// <summary>Maps our BERT parameter names to Hugging Face's ("bert.layers.0.query.weight" is
/// "bert.encoder.layer.0.attention.self.query.weight"); checkpoints of a bare BertModel have no "bert." prefix.</summary>
internal static class BertLoading
{
    public static void Load(nn.Module model, WeightAssigner assigner, bool classifier)
    {
        var checkpoint = assigner.Checkpoint;
        string prefix = checkpoint.Contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        foreach (var (name, parameter) in model.named_parameters())
            assigner.Assign(HuggingFaceName(name, prefix), parameter);
        // A classifier without a pooler in the checkpoint is an error above; an encoder ignores pooler and heads.
        if (classifier) assigner.EnsureAllUsed("position_ids");
        else assigner.EnsureAllUsed("position_ids", prefix + "pooler", "cls", "classifier");
    }

    public static string HuggingFaceName(string name, string prefix)
    {
        if (name.StartsWith("pooler.", StringComparison.Ordinal)) return prefix + "pooler.dense." + name.Substring("pooler.".Length);
        if (name.StartsWith("classifier.", StringComparison.Ordinal)) return name;
        var parts = name.Split('.');
        // bert . <field> ...
        string field = parts[1];
        switch (field)
        {
            case "word_embeddings" or "position_embeddings" or "token_type_embeddings":
                return $"{prefix}embeddings.{field}.{parts[2]}";
            case "embeddings_norm":
                return $"{prefix}embeddings.LayerNorm.{parts[2]}";
            case "layers":
            {
                string layer = $"{prefix}encoder.layer.{parts[2]}.";
                string tail = parts[4];
                return parts[3] switch
                {
                    "query" or "key" or "value" => layer + "attention.self." + parts[3] + "." + tail,
                    "attention_dense" => layer + "attention.output.dense." + tail,
                    "attention_norm" => layer + "attention.output.LayerNorm." + tail,
                    "intermediate" => layer + "intermediate.dense." + tail,
                    "output_dense" => layer + "output.dense." + tail,
                    "output_norm" => layer + "output.LayerNorm." + tail,
                    _ => throw new InvalidOperationException($"unmapped BERT parameter '{name}'"),
                };
            }
            default:
                throw new InvalidOperationException($"unmapped BERT parameter '{name}'");
        }
    }
}
