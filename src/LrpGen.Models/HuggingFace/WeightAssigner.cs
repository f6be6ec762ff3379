using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

/// <summary>Copies checkpoint tensors into a model's parameters and remembers which it used, so that a checkpoint
/// with tensors the model has no place for (a wrong architecture, a renamed module) fails loudly instead of
/// leaving some weights silently at their random initialization.</summary>
public sealed class WeightAssigner
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <param name="checkpoint">Where the tensors come from.</param>
    /// <param name="dtype">The type tensors are converted to on the CPU before the copy, normally the model's.</param>
    /// <param name="shapesOnly">Check names and shapes against the headers and read no tensor data: for a model
    /// built on the meta device, so that a checkpoint that does not fit fails before any weights are allocated.</param>
    public WeightAssigner(CheckpointFolder checkpoint, ScalarType dtype, bool shapesOnly = false)
    {
        Checkpoint = checkpoint ?? throw new ArgumentNullException(nameof(checkpoint));
        DType = dtype;
        ShapesOnly = shapesOnly;
    }

    public CheckpointFolder Checkpoint { get; }

    public ScalarType DType { get; }

    /// <summary>True when only names and shapes are checked (no data read, nothing copied).</summary>
    public bool ShapesOnly { get; }

    /// <summary>Checkpoint tensors assigned or marked used so far.</summary>
    public IReadOnlyCollection<string> Used => _used;

    /// <summary>Copies checkpoint tensor <paramref name="checkpointName"/> into <paramref name="target"/> (a parameter
    /// or buffer, on any device), outside autograd. The shape is checked from the header before any bytes are read.</summary>
    public void Assign(string checkpointName, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(target);
        string expected = SafetensorsEntry.FormatShape(target.shape);
        if (!Checkpoint.Contains(checkpointName))
            throw new CheckpointException($"{Checkpoint.WeightsPath} has no tensor '{checkpointName}'; the model expects one of shape {expected}.", Checkpoint.WeightsPath);

        long[] stored = Checkpoint.Shape(checkpointName);
        if (!stored.SequenceEqual(target.shape))
        {
            string file = Checkpoint.FileOf(checkpointName);
            throw new CheckpointException($"Tensor {Checkpoint.Describe(checkpointName)} in {file} has shape {SafetensorsEntry.FormatShape(stored)}; the model expects {expected}.", file);
        }

        _used.Add(checkpointName);
        if (ShapesOnly) return;
        using var loaded = Checkpoint.Load(checkpointName, DType);
        using (torch.no_grad())
        {
            // copy_ returns target itself, not a new handle, so there is nothing more to dispose.
            target.copy_(loaded);
        }
    }

    /// <summary>Counts a tensor as used without copying it, e.g. a tied lm_head.weight that the model shares
    /// with the embedding. Names the checkpoint lacks are accepted: marking is a statement about the model.</summary>
    public void MarkUsed(string name) => _used.Add(name);

    /// <summary>Throws, naming them all, when checkpoint tensors remain that no parameter took. An ignored entry
    /// matches a name equal to it, a name under it ("model.layers.9" matches "model.layers.9.mlp.up_proj.weight"),
    /// a name ending in it as whole components ("rotary_emb.inv_freq" matches
    /// "model.layers.0.self_attn.rotary_emb.inv_freq"), and, when it ends with '.', any name starting with it.</summary>
    public void EnsureAllUsed(params string[] ignoredPrefixesOrNames)
    {
        var unused = Checkpoint.TensorNames
            .Where(name => !_used.Contains(name) && !ignoredPrefixesOrNames.Any(pattern => IsIgnored(name, pattern)))
            .OrderBy(name => name, StringComparer.Ordinal)
            .ToList();
        if (unused.Count == 0) return;
        throw new CheckpointException(
            $"{Checkpoint.WeightsPath} has {unused.Count} tensor(s) that no model parameter took: "
            + string.Join(", ", unused.Select(name => $"'{name}'"))
            + $". The checkpoint does not fit this model ({Checkpoint.ModelType}).",
            Checkpoint.WeightsPath);
    }

    // Whole components only, so that "model.layers.1" does not swallow "model.layers.10.*".
    internal static bool IsIgnored(string name, string pattern) =>
        pattern.Length > 0
        && (name == pattern
            || (pattern.EndsWith('.') && name.StartsWith(pattern, StringComparison.Ordinal))
            || name.StartsWith(pattern + ".", StringComparison.Ordinal)
            || name.EndsWith("." + pattern, StringComparison.Ordinal));
}
