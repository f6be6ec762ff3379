using System.Collections.Generic;
using LrpGen.Models.Decoders;
using LrpGen.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>A prototype of the memory-saving mode the issue asks the generator for, assembled here from the
/// generated per-layer cores (<c>LrpForwardCore</c> / <c>LrpBackwardCore</c>) to measure what block checkpointing
/// would cost and save: the forward keeps only each layer's input (one [B, T, hidden] tensor per layer) and the last
/// layer's tape; the backward recomputes one layer's tape at a time (one extra forward of every layer but the last).
/// Numerically the same pass (checked by <c>verify</c>).</summary>
public static class CheckpointedPass
{
    public static Tensor Relevance(LlamaForCausalLM model, Tensor embeds, Tensor cos, Tensor sin, Tensor mask, Tensor rows, Tensor weights)
    {
        using var noGrad = torch.no_grad();
        var ctx = new LrpContext(new LrpOptions { Method = LrpMethod.AttnLrp });
        int n = model.layers.Count;
        var inputs = new List<Tensor>(n);
        LlamaDecoderLayer.LrpTape? lastTape = null;
        RmsNorm.LrpTape? normTape = null;
        Tensor? g = null;
        try
        {
            // Forward: layer inputs only; the last layer keeps its tape (its backward comes first).
            var h = embeds.alias();
            for (int i = 0; i < n; i++)
            {
                inputs.Add(h);
                var tape = new LlamaDecoderLayer.LrpTape();
                var next = model.layers[i].LrpForwardCore(ctx, tape, h, cos, sin, mask);
                if (i == n - 1) lastTape = tape;
                else tape.Dispose();
                h = next;
            }
            long B = h.shape[0], T = h.shape[1];
            var hiddenShape = h.shape;
            using var flat = h.reshape(B * T, -1);
            h.Dispose();
            var flatShape = flat.shape;
            using var picked = flat.index_select(0, rows);
            normTape = new RmsNorm.LrpTape();
            using var normed = model.norm.LrpForwardCore(ctx, normTape, picked);
            using (var logits = model.lm_head.forward(normed)) { }

            // Backward: lm_head, norm, row selection, then the layers in reverse, recomputing each tape.
            using (var gNormed = LinearRule.Backward(ctx, weights, model.lm_head.weight, null, 0))
            {
                var gs = model.norm.LrpBackwardCore(ctx, normTape, gNormed);
                using var gPicked = gs[0]!;
                using var gFlat = Adjoint.IndexSelect(gPicked, 0, rows, flatShape);
                g = gFlat.reshape(hiddenShape);
            }
            for (int i = n - 1; i >= 0; i--)
            {
                var tape = lastTape;
                lastTape = null;
                if (tape is null)
                {
                    tape = new LlamaDecoderLayer.LrpTape();
                    using var recomputed = model.layers[i].LrpForwardCore(ctx, tape, inputs[i], cos, sin, mask);
                }
                using (tape)
                {
                    var gs = model.layers[i].LrpBackwardCore(ctx, tape, g);
                    for (int j = 1; j < gs.Length; j++) gs[j]?.Dispose();
                    g.Dispose();
                    g = gs[0]!;
                }
                // This layer's input is needed no more.
                inputs[i].Dispose();
                inputs[i] = null!;
            }
            return embeds.mul(g);
        }
        finally
        {
            g?.Dispose();
            lastTape?.Dispose();
            normTape?.Dispose();
            foreach (var t in inputs) t?.Dispose();
        }
    }
}
