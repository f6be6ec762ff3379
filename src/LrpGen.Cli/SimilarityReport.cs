using System.Globalization;
using System.IO;
using System.Text;
using System.Linq;
using LrpGen.Models.Sentences;

namespace LrpGen.Cli;

/// <summary>The JSON of <c>lrpgen similarity --json</c>: the similarity, the method, and per sentence its text, token
/// ids, pieces and relevance (null where not finite).</summary>
internal sealed record SimilarityReportJson(float Similarity, string Method, SentenceJson A, SentenceJson B);

/// <summary>One sentence of <see cref="SimilarityReportJson"/>.</summary>
internal sealed record SentenceJson(string Sentence, long[] Tokens, string[] Pieces, float[] Relevance);

/// <summary>The JSON of <c>lrpgen similarity "query" --candidates FILE --json</c>: every candidate by decreasing score,
/// and the explained top ones with both sides' relevance.</summary>
internal sealed record SimilarityRankingJson(string Model, string Method, string Query, RankedCandidateJson[] Candidates, TopCandidateJson[] Top);

/// <summary>One candidate: its index among the file's candidates (blank lines skipped), its text, its cosine similarity.</summary>
internal sealed record RankedCandidateJson(int Index, string Text, float Score);

/// <summary>One explained candidate: the query's and the candidate's relevance, each with the other held fixed.</summary>
internal sealed record TopCandidateJson(int Rank, int Index, string Text, float Similarity, SentenceJson Query, SentenceJson Candidate,
    bool QueryTruncated, bool CandidateTruncated);

/// <summary>A similarity explanation as JSON (<see cref="SimilarityReportJson"/>) and as one
/// self-contained HTML page showing both sentences side by side.</summary>
public static class SimilarityReport
{
    public static void WriteJson(Stream stream, SimilarityExplanation e) =>
        ReportJson.Write(stream, new SimilarityReportJson(e.Similarity, ChoiceNames.Name(e.Method), Side(e.A), Side(e.B)),
            ReportJsonContext.Default.SimilarityReportJson, indented: true);

    public static void WriteRankingJson(Stream stream, string model, LrpMethod method, SimilarityRanking ranking) =>
        ReportJson.Write(stream, new SimilarityRankingJson(model, ChoiceNames.Name(method), ranking.Query,
                ranking.Candidates.Select(c => new RankedCandidateJson(c.Index, c.Text, c.Score)).ToArray(),
                ranking.Top.Select((e, i) => new TopCandidateJson(i + 1, ranking.Candidates[i].Index, ranking.Candidates[i].Text, e.Similarity,
                    Side(e.A), Side(e.B), e.A.Truncated, e.B.Truncated)).ToArray()),
            ReportJsonContext.Default.SimilarityRankingJson, indented: true);

    private static SentenceJson Side(SentenceRelevance side) => new(side.Sentence, side.Ids, side.Pieces, side.Relevance);

    public static void WriteHtml(Stream stream, SimilarityExplanation e, string model = SentenceSimilarity.DefaultModel)
    {
        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Html(e, model));
        stream.Write(bytes, 0, bytes.Length);
    }

    public static string Html(SimilarityExplanation e, string model = SentenceSimilarity.DefaultModel)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append($"<title>lrpgen similarity · {HtmlReport.Escape(ChoiceNames.Name(e.Method))} · {e.Similarity.ToString("F4", CultureInfo.InvariantCulture)}</title>\n");
        html.Append("""
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d1d1f; background: #fff; }
            h1 { font-size: 1.3rem; }
            .pair { display: flex; flex-wrap: wrap; gap: 1.5rem; }
            .side { flex: 1 1 22rem; min-width: 0; border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1rem; }
            .side h2 { font-size: 1rem; margin: 0 0 .6rem 0; color: #555; }
            .tokens { font-family: ui-monospace, Menlo, Consolas, monospace; line-height: 2.1; overflow-wrap: anywhere; }
            .tok { border-radius: 3px; padding: .15rem .25rem; margin-right: .2rem; cursor: help; }
            .legend { color: #555; font-size: .9rem; margin: .8rem 0; }
            .scale { display: inline-block; width: 12rem; height: .8rem; vertical-align: middle; border: 1px solid #ccc; background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255), rgb(255,0,0)); }
            </style>
            </head>
            <body>
            """).Append('\n');
        html.Append($"<h1>Why these sentences are similar: cosine similarity <b>{e.Similarity.ToString("F4", CultureInfo.InvariantCulture)}</b></h1>\n");
        html.Append($"<p class=\"legend\">{HtmlReport.Escape(model)} · method <b>{HtmlReport.Escape(ChoiceNames.Name(e.Method))}</b> · negative <span class=\"scale\"></span> positive</p>\n");
        html.Append("<div class=\"pair\">\n");
        foreach (var (label, side) in new[] { ("A", e.A), ("B", e.B) })
        {
            float max = HeatmapPalette.MaxAbs(side.Relevance);
            html.Append($"<div class=\"side\" id=\"sentence-{label.ToLowerInvariant()}\"><h2>Sentence {label}: {HtmlReport.Escape(DisplayText.Visible(side.Sentence))}</h2><div class=\"tokens\">");
            for (int i = 0; i < side.Pieces.Length; i++)
            {
                float r = side.Relevance[i];
                var bg = HeatmapPalette.Background(r, max);
                var fg = HeatmapPalette.Foreground(r, max);
                html.Append($"<span class=\"tok\" style=\"background:{bg.Css};color:{fg.Css}\" title=\"{HtmlReport.Escape($"relevance {HeatmapPalette.Format(r)}")}\">{HtmlReport.Escape(DisplayText.Visible(side.Pieces[i]))}</span>");
            }
            html.Append("</div></div>\n");
        }
        html.Append("</div>\n</body>\n</html>\n");
        return html.ToString();
    }
}
