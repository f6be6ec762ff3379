using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Models.Decoders;

/// <summary>Whether two configurations of one family compute the same model, setting by setting: sizes, activation,
/// tied output, attention scale, soft-caps, which layers attend through which window, each layer's RoPE base and the
/// scaling. Used where a model is stored in another form (a GGUF file, whose architecture fixes or derives some
/// settings) to refuse a conversion that would change the model rather than write it silently.</summary>
public static class DecoderComputation
{
    /// <summary>The settings in which <paramref name="stored"/> computes differently from <paramref name="expected"/>,
    /// each with both values as text; per-layer settings name the first layer that differs. Numbers agree within a
    /// float32 rounding (GGUF metadata stores float32).</summary>
    public static IEnumerable<(string Setting, string Expected, string Stored)> Differences(DecoderConfig expected, DecoderConfig stored)
    {
        foreach (var (setting, a, b) in Settings(expected).Zip(Settings(stored), (x, y) => (x.Setting, x.Value, y.Value)))
            if (!Same(a, b)) yield return (setting, Format(a), Format(b));
        for (int layer = 0; layer < Math.Min(expected.Layers, stored.Layers); layer++)
        {
            bool slides = SlidesEffectively(expected, layer), storedSlides = SlidesEffectively(stored, layer);
            if (slides != storedSlides)
            {
                yield return ($"layer {layer}'s attention", Kind(slides), Kind(storedSlides));
                yield break;
            }
            if (slides && expected.SlidingWindow != stored.SlidingWindow)
            {
                yield return ($"layer {layer}'s sliding_window", Format(expected.SlidingWindow), Format(stored.SlidingWindow));
                yield break;
            }
            double theta = RopeBase(expected, layer), storedTheta = RopeBase(stored, layer);
            if (!Same(theta, storedTheta))
            {
                yield return ($"layer {layer}'s RoPE base ({(expected.IsSliding(layer) ? "rope_local_base_freq" : "rope_theta")})", Format(theta), Format(storedTheta));
                yield break;
            }
        }
    }

    private static IEnumerable<(string Setting, object Value)> Settings(DecoderConfig d) => new (string, object)[]
    {
        ("vocab_size", d.VocabSize), ("hidden_size", d.HiddenSize), ("intermediate_size", d.IntermediateSize),
        ("num_hidden_layers", d.Layers), ("num_attention_heads", d.Heads), ("num_key_value_heads", d.KvHeads),
        ("head_dim", d.HeadDim), ("rms_norm_eps", d.RmsNormEps), ("hidden_act", d.HiddenAct),
        ("tie_word_embeddings", d.TieWordEmbeddings), ("the attention scale (query_pre_attn_scalar^-1/2)", d.AttentionScaling),
        ("attn_logit_softcapping", d.AttentionSoftcap), ("final_logit_softcapping", d.FinalLogitSoftcap),
        ("rope_scaling", d.RopeScaling?.ToString() ?? "none"),
        ("num_experts", d.Experts), ("num_experts_per_tok", d.ExpertsPerToken), ("moe_intermediate_size", d.MoeIntermediateSize),
    };

    /// <summary>A window at least as long as the context covers every sequence the model takes: it changes nothing.</summary>
    private static bool SlidesEffectively(DecoderConfig d, int layer) =>
        d.IsSliding(layer) && (d.MaxPositions == 0 || d.SlidingWindow < d.MaxPositions);

    private static double RopeBase(DecoderConfig d, int layer) =>
        d.IsSliding(layer) && d.LocalRopeTheta > 0 ? d.LocalRopeTheta : d.RopeTheta;

    private static string Kind(bool sliding) => sliding ? "sliding-window" : "full";

    private static bool Same(object a, object b) => a is double x && b is double y
        ? Math.Abs(x - y) <= 1e-6 * Math.Max(Math.Abs(x), Math.Abs(y))
        : Equals(a, b);

    private static string Format(object value) => value switch
    {
        double d => d.ToString("G7", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
