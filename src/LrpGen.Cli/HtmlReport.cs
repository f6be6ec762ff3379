using System.Globalization;
using System.IO;
using System.Net;
using System.Text;

namespace LrpGen.Cli;

/// <summary>Writes an explanation as one self-contained HTML page (inline CSS, no scripts, no external resources):
/// the prompt's tokens on their heatmap colours with the value on hover, the target and its logit, and a table of
/// the values. All token text is HTML-escaped, with control and bidirectional characters shown as escapes
/// (<see cref="DisplayText"/>).</summary>
public static class HtmlReport
{
    public static void Write(Stream stream, ExplainResult result)
    {
        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Render(result));
        stream.Write(bytes, 0, bytes.Length);
    }

    public static string Render(ExplainResult result)
    {
        float max = HeatmapPalette.MaxAbs(result.Relevance);
        var target = result.TargetPiece is { } piece
            ? $"{result.Target} “{DisplayText.Visible(piece)}”"
            : result.Target.ToString(CultureInfo.InvariantCulture);
        var logit = result.Logit.ToString("R", CultureInfo.InvariantCulture);

        var html = new StringBuilder();
        OpenPage(html, $"lrpgen: {Escape(result.ModelType)} · {Escape(result.Method)} · target {Escape(target)}");
        html.Append("""
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d1d1f; background: #fff; }
            h1 { font-size: 1.3rem; margin-bottom: .2rem; }
            .meta { color: #555; margin-top: 0; }
            .prompt { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 1.05rem; line-height: 2.1;
                      white-space: pre-wrap; word-break: break-word; border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1rem; }
            .tok { border-radius: 3px; padding: .15rem .05rem; cursor: help; }
            .tok:hover { outline: 2px solid #333; }
            .target { margin-top: 1rem; font-size: 1.05rem; }
            .legend { display: flex; align-items: center; gap: .5rem; color: #555; font-size: .9rem; margin: .8rem 0; }
            .scale { width: 12rem; height: .8rem; border: 1px solid #ccc; background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255), rgb(255,0,0)); }
            table { border-collapse: collapse; margin-top: 1.5rem; font-size: .9rem; }
            th, td { padding: .2rem .7rem; text-align: left; border-bottom: 1px solid #eee; }
            td.num { text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
            td.piece span { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre; }
            </style>
            </head>
            <body>
            """).Append('\n');
        html.Append("<h1>Relevance of the next-token logit</h1>\n");
        html.Append($"<p class=\"meta\">model <b>{Escape(result.ModelType)}</b> · method <b>{Escape(result.Method)}</b> · "
            + $"{result.Tokens.Count} tokens · max |R| = {Escape(HeatmapPalette.Format(max))}</p>\n");
        html.Append("<div class=\"legend\"><span>negative</span><span class=\"scale\"></span><span>positive</span></div>\n");

        html.Append("<div class=\"prompt\">");
        for (int i = 0; i < result.Tokens.Count; i++)
        {
            html.Append(Span(result, i, max));
            if (result.Pieces is null) html.Append(' ');
        }
        html.Append("</div>\n");
        html.Append($"<p class=\"target\">target: <b>{Escape(target)}</b> · logit: <b>{Escape(logit)}</b></p>\n");

        html.Append("<table>\n<thead><tr><th>pos</th><th>id</th><th>token</th><th>relevance</th></tr></thead>\n<tbody>\n");
        for (int i = 0; i < result.Tokens.Count; i++)
            html.Append($"<tr><td class=\"num\">{i}</td><td class=\"num\">{result.Tokens[i].ToString(CultureInfo.InvariantCulture)}</td>"
                + $"<td class=\"piece\">{Span(result, i, max)}</td><td class=\"num\">{Escape(HeatmapPalette.Format(result.Relevance[i]))}</td></tr>\n");
        html.Append("</tbody>\n</table>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Span(ExplainResult result, int i, float max)
    {
        float r = result.Relevance[i];
        var bg = HeatmapPalette.Background(r, max);
        var fg = HeatmapPalette.Foreground(r, max);
        var title = $"position {i}, id {result.Tokens[i].ToString(CultureInfo.InvariantCulture)}, relevance {HeatmapPalette.Format(r)}";
        var label = result.Label(i);
        return $"<span class=\"tok\" style=\"background:{bg.Css};color:{fg.Css}\" title=\"{Escape(title)}\">"
            + $"{Escape(DisplayText.Visible(label))}</span>";
    }

    /// <summary>HTML-escapes text for element content and double-quoted attributes.</summary>
    public static string Escape(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The opening every lrpgen page shares, up to and including its title (HTML, escaped by the caller: the
    /// fixed parts such as "·" stay literal); the page's style follows.</summary>
    internal static void OpenPage(StringBuilder html, string titleHtml)
    {
        html.Append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            """).Append('\n');
        html.Append($"<title>{titleHtml}</title>\n");
    }
}
