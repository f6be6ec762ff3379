using System;

namespace LrpGen.Visualization;

/// <summary>Which panels <see cref="HeatmapImage"/> puts side by side (left to right). Without an image only the
/// heatmap is drawn.</summary>
public enum HeatmapLayout
{
    /// <summary>The image, then the heatmap blended over it.</summary>
    ImageAndOverlay,
    /// <summary>The image, then the heatmap.</summary>
    ImageAndHeatmap,
    /// <summary>The image, the heatmap, and the heatmap blended over the image.</summary>
    ImageHeatmapOverlay,
    /// <summary>The heatmap alone.</summary>
    HeatmapOnly,
    /// <summary>The heatmap blended over the image, alone.</summary>
    OverlayOnly,
}

/// <summary>How relevance becomes a picture.</summary>
public sealed record HeatmapOptions
{
    /// <summary>Each panel is enlarged by the smallest whole factor that makes its longer side at least this many
    /// pixels (nearest neighbour: every input pixel stays a crisp square). Default 256.</summary>
    public int MinPanelSize { get; init; } = 256;

    /// <summary>The relevance that maps to full red (and its negative to full blue). Null: from
    /// <see cref="Percentile"/>, else max |R| of each map.</summary>
    public double? Scale { get; init; }

    /// <summary>Scale each map by this percentile of |R| (0 &lt; p &lt;= 100; e.g. 99.5 keeps a few extreme pixels
    /// from washing out the rest; larger values are clipped). Null: max |R|.</summary>
    public double? Percentile { get; init; }

    /// <summary>Largest weight of the heatmap colour over the (grey) image in an overlay; the weight of a pixel grows
    /// with the square root of its scaled |R|, so pixels without relevance show the image. In (0, 1].</summary>
    public double Opacity { get; init; } = 0.85;

    /// <summary>The panels side by side (default: the image, then the heatmap over it).</summary>
    public HeatmapLayout Layout { get; init; } = HeatmapLayout.ImageAndOverlay;

    /// <summary>White space between panels and around the picture, in output pixels.</summary>
    public int Gap { get; init; } = 8;

    internal void Validate()
    {
        if (MinPanelSize < 1 || MinPanelSize > 8192)
            throw new ArgumentOutOfRangeException(nameof(MinPanelSize), MinPanelSize, "the panel size must lie in [1, 8192].");
        if (Scale is double s && !(s > 0 && double.IsFinite(s)))
            throw new ArgumentOutOfRangeException(nameof(Scale), s, "the scale must be positive and finite.");
        if (Percentile is double p && !(p > 0 && p <= 100))
            throw new ArgumentOutOfRangeException(nameof(Percentile), p, "the percentile must lie in (0, 100].");
        if (!(Opacity > 0 && Opacity <= 1))
            throw new ArgumentOutOfRangeException(nameof(Opacity), Opacity, "the opacity must lie in (0, 1].");
        if (Gap < 0 || Gap > 1024)
            throw new ArgumentOutOfRangeException(nameof(Gap), Gap, "the gap must lie in [0, 1024].");
        if (!Enum.IsDefined(Layout))
            throw new ArgumentOutOfRangeException(nameof(Layout), Layout, "unknown layout.");
    }
}
