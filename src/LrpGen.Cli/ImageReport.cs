using System;
using System.IO;

namespace LrpGen.Cli;

/// <summary>The JSON of <c>lrpgen explain-image --json</c>, on one line: the explained class, its logit, and the
/// relevance map as rows of pixels.</summary>
internal sealed record ImageReportJson(long Target, float Logit, float[][] RelevanceMap);

/// <summary>One class of <c>lrpgen explain-image --top-k --json</c>: its rank (1 = most probable), id, logit, softmax
/// probability and relevance map.</summary>
internal sealed record ImageClassJson(int Rank, long Target, float Logit, float Probability, float[][] RelevanceMap);

/// <summary>The JSON of <c>lrpgen explain-image --top-k K --json</c>: the K classes, most probable first.</summary>
internal sealed record ImageTopKReportJson(ImageClassJson[] TopK);

/// <summary>Writes an image explanation as JSON (<see cref="ImageReportJson"/>).</summary>
internal static class ImageReport
{
    /// <summary><paramref name="values"/>: the map row by row, <paramref name="height"/> x <paramref name="width"/>.</summary>
    public static void WriteJson(Stream stream, long target, float logit, float[] values, int height, int width)
    {
        ReportJson.Write(stream, new ImageReportJson(target, logit, Rows(values, height, width)), ReportJsonContext.Default.ImageReportJson, indented: false);
    }

    /// <summary>The top-k classes, most probable first (<see cref="ImageTopKReportJson"/>).</summary>
    public static void WriteTopKJson(Stream stream, ImageClassJson[] classes) =>
        ReportJson.Write(stream, new ImageTopKReportJson(classes), ReportJsonContext.Default.ImageTopKReportJson, indented: false);

    /// <summary>A map given row by row as rows of pixels.</summary>
    public static float[][] Rows(float[] values, int height, int width)
    {
        if (values.Length != height * width)
            throw new ArgumentException($"the relevance map has {values.Length} values, not {height} x {width}.", nameof(values));
        var rows = new float[height][];
        for (int y = 0; y < height; y++) rows[y] = values.AsSpan(y * width, width).ToArray();
        return rows;
    }
}
