using System;
using System.IO;

namespace LrpGen.Cli;

/// <summary>The JSON of <c>lrpgen explain-image --json</c>, on one line: the explained class, its logit, and the
/// relevance map as rows of pixels.</summary>
internal sealed record ImageReportJson(long Target, float Logit, float[][] RelevanceMap);

/// <summary>Writes an image explanation as JSON (<see cref="ImageReportJson"/>).</summary>
internal static class ImageReport
{
    /// <summary><paramref name="values"/>: the map row by row, <paramref name="height"/> x <paramref name="width"/>.</summary>
    public static void WriteJson(Stream stream, long target, float logit, float[] values, int height, int width)
    {
        if (values.Length != height * width)
            throw new ArgumentException($"the relevance map has {values.Length} values, not {height} x {width}.", nameof(values));
        var rows = new float[height][];
        for (int y = 0; y < height; y++) rows[y] = values.AsSpan(y * width, width).ToArray();
        ReportJson.Write(stream, new ImageReportJson(target, logit, rows), ReportJsonContext.Default.ImageReportJson, indented: false);
    }
}
