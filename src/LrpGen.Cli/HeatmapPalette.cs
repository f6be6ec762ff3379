using System;
using System.Collections.Generic;
using System.Globalization;

namespace LrpGen.Cli;

/// <summary>An sRGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public string Css => $"rgb({R},{G},{B})";
}

/// <summary>The heatmap colours shared by the terminal and HTML output: red for positive relevance, blue for negative,
/// white for zero, the intensity |R| / max|R|.</summary>
public static class HeatmapPalette
{
    /// <summary>max |R| over the finite values (0 when there are none).</summary>
    public static float MaxAbs(IReadOnlyList<float> values)
    {
        float max = 0;
        foreach (var v in values)
            if (float.IsFinite(v)) max = Math.Max(max, Math.Abs(v));
        return max;
    }

    /// <summary>|R| / max|R| in [0, 1].</summary>
    public static double Intensity(float value, float maxAbs) =>
        maxAbs > 0 && float.IsFinite(value) ? Math.Clamp(Math.Abs(value) / maxAbs, 0, 1) : 0;

    public static Rgb Background(float value, float maxAbs)
    {
        var fade = (byte)Math.Round(255 * (1 - Intensity(value, maxAbs)));
        return value >= 0 ? new Rgb(255, fade, fade) : new Rgb(fade, fade, 255);
    }

    /// <summary>Black text on light cells, white on saturated ones.</summary>
    public static Rgb Foreground(float value, float maxAbs) =>
        Intensity(value, maxAbs) > 0.6 ? new Rgb(255, 255, 255) : new Rgb(0, 0, 0);

    /// <summary>A relevance value as shown to people: signed, fixed-point in [1e-3, 1e4), scientific elsewhere.</summary>
    public static string Format(float value)
    {
        if (!float.IsFinite(value)) return value.ToString(CultureInfo.InvariantCulture);
        if (value == 0) return "0";
        return Math.Abs(value) is >= 1e-3f and < 1e4f
            ? value.ToString("+0.000000;-0.000000", CultureInfo.InvariantCulture)
            : value.ToString("+0.00000E+00;-0.00000E+00", CultureInfo.InvariantCulture);
    }
}
