using System.Collections.Generic;

namespace LrpGen.Models.Decoders;

/// <summary>A RoPE frequency scaling from config.json ("rope_parameters" or "rope_scaling"); null in
/// <see cref="DecoderConfig.RopeScaling"/> is the default (unscaled) RoPE.</summary>
public abstract record RopeScaling;

/// <summary>The llama3 RoPE frequency scaling (config "rope_type": "llama3").</summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions) : RopeScaling;

/// <summary>Linear position interpolation ("rope_type": "linear", Gemma 3's global layers): every inverse frequency
/// divided by the factor.</summary>
public sealed record LinearRopeScaling(double Factor) : RopeScaling;

/// <summary>Phi-3's longrope: per-frequency divisors, the short ones while every position is below the original
/// context and the long ones beyond it, and cos/sin multiplied by the attention factor.</summary>
public sealed record LongRopeScaling(IReadOnlyList<double> ShortFactor, IReadOnlyList<double> LongFactor,
    int OriginalMaxPositions, double AttentionFactor) : RopeScaling;
