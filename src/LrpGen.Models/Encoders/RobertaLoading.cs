using System;
using LrpGen.Models.Bert;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Encoders;

/// <summary>Maps <see cref="RobertaEncoder"/>'s parameter names to Hugging Face's. RoBERTa's layers carry BERT's names
/// ("roberta.layers.0.query.weight" is "roberta.encoder.layer.0.attention.self.query.weight"), so the map is
/// <see cref="BertLoading"/>'s under the prefix "roberta." (a checkpoint of a bare RobertaModel or XLMRobertaModel,
/// as sentence-transformers saves it, has no prefix).</summary>
public static class RobertaLoading
{
    /// <summary>The Hugging Face name of one of <see cref="RobertaEncoder"/>'s parameters, under
    /// <paramref name="prefix"/> ("roberta." or "").</summary>
    public static string HuggingFaceName(string parameterName, string prefix)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        if (!parameterName.StartsWith("roberta.", StringComparison.Ordinal))
            throw new ArgumentException($"'{parameterName}' is not a RobertaEncoder parameter (they start with 'roberta.').", nameof(parameterName));
        return BertLoading.HuggingFaceName(parameterName, prefix);
    }

    /// <summary>"roberta." when the checkpoint holds a task model (RobertaForMaskedLM, ...), "" for a bare encoder.</summary>
    public static string Prefix(Func<string, bool> contains) =>
        contains("roberta.embeddings.word_embeddings.weight") ? "roberta." : "";

    /// <summary>Copies every parameter from the checkpoint; tensors that an encoder does not use (pooler, LM and
    /// classification heads, the position_ids buffer) are allowed, any other leftover is an error.</summary>
    public static void Load(RobertaEncoder encoder, WeightAssigner assigner)
    {
        string prefix = Prefix(assigner.Checkpoint.Contains);
        foreach (var (name, parameter) in encoder.named_parameters())
            assigner.Assign(HuggingFaceName(name, prefix), parameter);
        assigner.EnsureAllUsed("position_ids", prefix + "pooler", "lm_head", "classifier");
    }

    /// <summary>Builds the encoder from a Hugging Face folder (config.json and safetensors) in <paramref name="dtype"/>,
    /// after checking every tensor's name and shape on the meta device.</summary>
    public static RobertaEncoder FromCheckpoint(CheckpointFolder checkpoint, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var config = RobertaConfig.From(checkpoint);
        ShapeCheck.BeforeAllocating(checkpoint, dtype, meta => new RobertaEncoder(config, meta),
            (shapes, assigner) => Load((RobertaEncoder)shapes, assigner));
        var encoder = new RobertaEncoder(config);
        encoder.to(dtype);
        Load(encoder, new WeightAssigner(checkpoint, dtype));
        encoder.to(device ?? torch.CPU);
        encoder.eval();
        return encoder;
    }
}
