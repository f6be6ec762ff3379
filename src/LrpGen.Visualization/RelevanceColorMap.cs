using System;
using SkiaSharp;

namespace LrpGen.Visualization;

/// <summary>The symmetric red/white/blue colour map of relevance: 0 is white, +1 pure red, -1 pure blue, linear in
/// between (matplotlib's "bwr"); values beyond ±1 are clipped.</summary>
public static class RelevanceColorMap
{
    /// <summary>The colour of a scaled relevance value (clipped to [-1, 1]).</summary>
    public static SKColor Map(double scaled)
    {
        if (double.IsNaN(scaled)) throw new ArgumentException("cannot colour NaN.", nameof(scaled));
        double v = Math.Clamp(scaled, -1.0, 1.0);
        byte fade = (byte)Math.Round(255.0 * (1.0 - Math.Abs(v)));
        return v >= 0 ? new SKColor(255, fade, fade) : new SKColor(fade, fade, 255);
    }

    /// <summary>The value that maps to ±1 for <paramref name="map"/> under <paramref name="options"/>: the given scale,
    /// else the percentile of |R|, else max |R|; 1 for an all-zero map (which is then all white).</summary>
    public static double ScaleOf(RelevanceMap map, HeatmapOptions options)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        double scale = options.Scale ?? (options.Percentile is double p ? map.PercentileAbs(p) : map.MaxAbs);
        if (scale > 0) return scale;
        double max = map.MaxAbs;
        return max > 0 ? max : 1.0;
    }
}
