using System;
using System.Linq;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>Loads a decoder's parameters from a checkpoint through its family's <see cref="CheckpointNames"/>.</summary>
internal static class CheckpointLoading
{
    public static void LoadWeights(nn.Module module, WeightAssigner assigner, DecoderConfig config, CheckpointNames names, IProgress<string>? progress)
    {
        var checkpoint = assigner.Checkpoint;
        var parameters = module.named_parameters().ToList();
        int done = 0;
        foreach (var (name, parameter) in parameters)
        {
            var sources = names.Sources(name, config);
            var source = sources.FirstOrDefault(s => checkpoint.Contains(s.Tensor)) ?? sources[0];
            // A whole tensor goes through the assigner, which reports a missing or misshapen one with the file's name.
            if (source.IsWhole) assigner.Assign(source.Tensor, parameter);
            else AssignPart(checkpoint, assigner, source, parameter);
            if (++done % 16 == 0) progress?.Report($"loaded {done}/{parameters.Count} tensors");
        }
        progress?.Report($"loaded {parameters.Count} tensors");
        assigner.EnsureAllUsed(names.Ignored.ToArray());
    }

    /// <summary>Copies a part of a stored tensor (an expert, a row range, a transposed layout) into a parameter, after
    /// checking from the header that the stored tensor has the shape the part is cut from.</summary>
    private static void AssignPart(CheckpointFolder checkpoint, WeightAssigner assigner, WeightSource source, Tensor target)
    {
        string name = source.Tensor;
        if (!checkpoint.Contains(name))
            throw new CheckpointException($"{checkpoint.WeightsPath} has no tensor '{name}'; the model takes {source} of shape {SafetensorsEntry.FormatShape(target.shape)} from it.", checkpoint.WeightsPath);
        var stored = checkpoint.Shape(name);
        long[] whole = source.Stored ?? (source.Transposed ? Enumerable.Reverse(target.shape).ToArray() : target.shape);
        if (!stored.SequenceEqual(whole))
        {
            string file = checkpoint.FileOf(name);
            throw new CheckpointException(
                $"Tensor {checkpoint.Describe(name)} in {file} has shape {SafetensorsEntry.FormatShape(stored)}; the model expects {(source.Layout is { } layout ? layout + " " : "")}{SafetensorsEntry.FormatShape(whole)}.", file);
        }
        assigner.MarkUsed(name);
        if (assigner.ShapesOnly) return;
        using var all = checkpoint.Load(name, assigner.DType);
        using var selected = source.Expert is { } expert ? all[expert] : all.alias();
        using var sliced = source.Rows is { } r ? selected.narrow(0, source.Start, r) : selected.alias();
        using var oriented = source.Transposed ? sliced.t() : sliced.alias();
        using (torch.no_grad()) target.copy_(oriented);
    }
}
