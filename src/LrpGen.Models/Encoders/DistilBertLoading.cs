using System;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Encoders;

/// <summary>Maps <see cref="DistilBertEncoder"/>'s parameter names to Hugging Face's: "word_embeddings.weight" is
/// "distilbert.embeddings.word_embeddings.weight", "layers.0.query.weight" (a <see cref="Bert.BertLayer"/>) is
/// "distilbert.transformer.layer.0.attention.q_lin.weight". A bare DistilBertModel's checkpoint (as
/// sentence-transformers saves it) has no "distilbert." prefix.</summary>
public static class DistilBertLoading
{
    /// <summary>The Hugging Face name of one of <see cref="DistilBertEncoder"/>'s parameters, under
    /// <paramref name="prefix"/> ("distilbert." or "").</summary>
    public static string HuggingFaceName(string parameterName, string prefix)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        var parts = parameterName.Split('.');
        string Unmapped() => throw new ArgumentException($"'{parameterName}' is not a DistilBertEncoder parameter.", nameof(parameterName));
        switch (parts[0])
        {
            case "word_embeddings" or "position_embeddings" when parts.Length == 2:
                return $"{prefix}embeddings.{parts[0]}.{parts[1]}";
            case "embeddings_norm" when parts.Length == 2:
                return $"{prefix}embeddings.LayerNorm.{parts[1]}";
            case "layers" when parts.Length == 4:
            {
                string layer = $"{prefix}transformer.layer.{parts[1]}.";
                string module = parts[2] switch
                {
                    "query" => "attention.q_lin",
                    "key" => "attention.k_lin",
                    "value" => "attention.v_lin",
                    "attention_dense" => "attention.out_lin",
                    "attention_norm" => "sa_layer_norm",
                    "intermediate" => "ffn.lin1",
                    "output_dense" => "ffn.lin2",
                    "output_norm" => "output_layer_norm",
                    _ => Unmapped(),
                };
                return layer + module + "." + parts[3];
            }
            default:
                return Unmapped();
        }
    }

    /// <summary>"distilbert." when the checkpoint holds a task model (DistilBertForMaskedLM, ...), "" for a bare one.</summary>
    public static string Prefix(Func<string, bool> contains) =>
        contains("distilbert.embeddings.word_embeddings.weight") ? "distilbert." : "";

    /// <summary>Copies every parameter from the checkpoint; tensors an encoder does not use (the MLM head, a
    /// classifier, the position_ids buffer) are allowed, any other leftover is an error.</summary>
    public static void Load(DistilBertEncoder encoder, WeightAssigner assigner)
    {
        string prefix = Prefix(assigner.Checkpoint.Contains);
        foreach (var (name, parameter) in encoder.named_parameters())
            assigner.Assign(HuggingFaceName(name, prefix), parameter);
        assigner.EnsureAllUsed("position_ids", "vocab_transform", "vocab_layer_norm", "vocab_projector", "pre_classifier", "classifier");
    }

    /// <summary>Builds the encoder from a Hugging Face folder (config.json and safetensors) in <paramref name="dtype"/>,
    /// after checking every tensor's name and shape on the meta device.</summary>
    public static DistilBertEncoder FromCheckpoint(CheckpointFolder checkpoint, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var config = DistilBertConfig.From(checkpoint);
        ShapeCheck.BeforeAllocating(checkpoint, dtype, meta => new DistilBertEncoder(config, meta),
            (shapes, assigner) => Load((DistilBertEncoder)shapes, assigner));
        var encoder = new DistilBertEncoder(config);
        encoder.to(dtype);
        Load(encoder, new WeightAssigner(checkpoint, dtype));
        encoder.to(device ?? torch.CPU);
        encoder.eval();
        return encoder;
    }
}
