using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>Attention rollout (Abnar and Zuidema, <i>Quantifying Attention Flow in Transformers</i>, ACL 2020).
/// Each layer l: A_l = the attention probabilities averaged over heads [T, T]; with the residual connection,
/// Â_l = (A_l + I) / 2, rows renormalised to sum to 1. The rollout is R = Â_L ... Â_2 Â_1 (R[i, j]: how much
/// position i of the last layer draws on input token j); a token's relevance is sum_i readout_i R[i, j].</summary>
public static class AttentionRollout
{
    /// <summary>The rollout matrix [T, T] of per-layer attention probabilities ([heads, T, T] or [T, T] each, in
    /// layer order).</summary>
    public static Tensor Matrix(IReadOnlyList<Tensor> layers)
    {
        if (layers is null) throw new ArgumentNullException(nameof(layers));
        if (layers.Count == 0) throw new ArgumentException("attention rollout needs at least one layer.", nameof(layers));
        using var scope = torch.NewDisposeScope();
        Tensor? rollout = null;
        foreach (var layer in layers)
        {
            var a = layer.dim() switch
            {
                3 => layer.to(ScalarType.Float64).mean(new long[] { 0 }),
                2 => layer.to(ScalarType.Float64),
                _ => throw new ArgumentException($"attention probabilities must be [heads, T, T] or [T, T], got [{string.Join(", ", layer.shape)}].", nameof(layers)),
            };
            long t = a.shape[0];
            if (a.shape[1] != t) throw new ArgumentException($"attention probabilities must be square, got [{string.Join(", ", layer.shape)}].", nameof(layers));
            var withResidual = (a + torch.eye(t, dtype: ScalarType.Float64, device: a.device)) * 0.5;
            withResidual = withResidual / withResidual.sum(new long[] { -1 }, keepdim: true);
            rollout = rollout is null ? withResidual : withResidual.matmul(rollout);
        }
        return rollout!.MoveToOuterDisposeScope();
    }

    /// <summary>Token relevance [T]: sum_i readout_i R[i, j].</summary>
    public static float[] Relevance(IReadOnlyList<Tensor> layers, float[] readout)
    {
        if (readout is null) throw new ArgumentNullException(nameof(readout));
        using var scope = torch.NewDisposeScope();
        var matrix = Matrix(layers);
        if (readout.Length != matrix.shape[0])
            throw new ArgumentException($"the readout has {readout.Length} weights for {matrix.shape[0]} positions.", nameof(readout));
        var weights = torch.tensor(readout.Select(r => (double)r).ToArray(), ScalarType.Float64, matrix.device);
        var relevance = weights.matmul(matrix).to(ScalarType.Float32).cpu();
        return relevance.data<float>().ToArray();
    }
}
