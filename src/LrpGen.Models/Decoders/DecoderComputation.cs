using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Models.Decoders;

/// <summary>Whether two configurations of one family compute the same model, setting by setting: sizes, activation,
/// tied output, attention scale, soft-caps, which layers attend through which window, and each layer's RoPE by its
/// inverse frequencies (base and scaling together). Used where a model is stored in another form (a GGUF file, whose
/// architecture fixes or derives some settings) to refuse a conversion that would change the model rather than write it
/// silently.</summary>
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
            if (RopeDifference(expected, stored, layer) is { } rope)
            {
                yield return rope;
                yield break;
            }
        }
    }

    /// <summary>A layer's RoPE as it computes: the inverse frequencies within and beyond the original context (they
    /// differ under longrope only), where it switches, and the factor on cos and sin. Compared by effect, so that one
    /// scaling stored in another form (llama3's as per-frequency factors) is the same RoPE.</summary>
    private static (string, string, string)? RopeDifference(DecoderConfig expected, DecoderConfig stored, int layer)
    {
        var (inner, outer, factor, switchAt) = Rope(expected, layer);
        var (storedInner, storedOuter, storedFactor, storedSwitchAt) = Rope(stored, layer);
        string setting = $"layer {layer}'s RoPE (rope_theta, {(expected.IsSliding(layer) ? "rope_local_base_freq, " : "")}rope_scaling)";
        if (inner.Length != storedInner.Length) return null;   // head_dim differs: reported with the sizes
        for (int i = 0; i < inner.Length; i++)
            foreach (var (a, b, regime) in new[] { (inner[i], storedInner[i], ""), (outer[i], storedOuter[i], " beyond the original context") })
                if (!Same((double)a, (double)b, 1e-5))
                    return ($"{setting}: inverse frequency {i}{regime}", Format((double)a), Format((double)b));
        if (!Same(factor, storedFactor, 1e-6)) return ($"{setting}: attention factor", Format(factor), Format(storedFactor));
        bool switches = !inner.SequenceEqual(outer) || !storedInner.SequenceEqual(storedOuter);
        return switches && switchAt != storedSwitchAt ? ($"{setting}: original context", Format(switchAt), Format(storedSwitchAt)) : null;
    }

    private static (float[] Inner, float[] Outer, double AttentionFactor, int SwitchAt) Rope(DecoderConfig d, int layer)
    {
        bool local = d.IsSliding(layer) && d.LocalRopeTheta > 0;
        double theta = local ? d.LocalRopeTheta : d.RopeTheta;
        var scaling = local ? null : d.RopeScaling;
        using var inner = Rotary.InverseFrequencies(d, theta, scaling, beyondOriginal: false);
        using var outer = Rotary.InverseFrequencies(d, theta, scaling, beyondOriginal: true);
        return (inner.data<float>().ToArray(), outer.data<float>().ToArray(),
            scaling is LongRopeScaling l ? l.AttentionFactor : 1.0, scaling is LongRopeScaling o ? o.OriginalMaxPositions : 0);
    }

    private static IEnumerable<(string Setting, object Value)> Settings(DecoderConfig d) => new (string, object)[]
    {
        ("vocab_size", d.VocabSize), ("hidden_size", d.HiddenSize), ("intermediate_size", d.IntermediateSize),
        ("num_hidden_layers", d.Layers), ("num_attention_heads", d.Heads), ("num_key_value_heads", d.KvHeads),
        ("head_dim", d.HeadDim), ("rms_norm_eps", d.RmsNormEps), ("hidden_act", d.HiddenAct),
        ("tie_word_embeddings", d.TieWordEmbeddings), ("the attention scale (query_pre_attn_scalar^-1/2)", d.AttentionScaling),
        ("attn_logit_softcapping", d.AttentionSoftcap), ("final_logit_softcapping", d.FinalLogitSoftcap),
        ("num_experts", d.Experts), ("num_experts_per_tok", d.ExpertsPerToken), ("moe_intermediate_size", d.MoeIntermediateSize),
    };

    /// <summary>A window at least as long as the context covers every sequence the model takes: it changes nothing.</summary>
    private static bool SlidesEffectively(DecoderConfig d, int layer) =>
        d.IsSliding(layer) && (d.MaxPositions == 0 || d.SlidingWindow < d.MaxPositions);

    private static string Kind(bool sliding) => sliding ? "sliding-window" : "full";

    private static bool Same(object a, object b) => a is double x && b is double y ? Same(x, y, 1e-6) : Equals(a, b);

    private static bool Same(double a, double b, double relative) => Math.Abs(a - b) <= relative * Math.Max(Math.Abs(a), Math.Abs(b));

    private static string Format(object value) => value switch
    {
        double d => d.ToString("G7", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
