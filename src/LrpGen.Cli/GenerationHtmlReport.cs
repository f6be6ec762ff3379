using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace LrpGen.Cli;

/// <summary>The data the generation page's script reads: per generated token s, each position's heatmap colours and
/// tooltip (computed here with <see cref="HeatmapPalette"/>, the row's own max |R|) and a line about the token.</summary>
internal sealed record GenerationPageJson(int Prompt, string[][] Background, string[][] Foreground, string[][] Title, string[] Info);

/// <summary>Writes a generation as one self-contained HTML page (inline CSS and script, no external resources): the
/// prompt and the generated text, where hovering a generated token colours every position by that token's row of the
/// relevance matrix (clicking keeps it; the first token's row is shown at first), and the matrix itself as a table of
/// coloured cells (hovering a row selects that token too). Token text is HTML-escaped, with control and bidirectional
/// characters shown as escapes (<see cref="DisplayText"/>); the data is JSON whose HTML-sensitive characters are escaped.</summary>
public static class GenerationHtmlReport
{
    public static void Write(Stream stream, GenerationResult result)
    {
        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(Render(result));
        stream.Write(bytes, 0, bytes.Length);
    }

    public static string Render(GenerationResult result)
    {
        int prompt = result.PromptTokens.Count, positions = result.Positions;
        var html = new StringBuilder();
        HtmlReport.OpenPage(html, $"lrpgen generate: {Escape(result.ModelType)} · {Escape(result.Method)} · {result.Generated.Count} tokens");
        html.Append("""
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 70rem; color: #1d1d1f; background: #fff; }
            h1 { font-size: 1.3rem; margin-bottom: .2rem; }
            h2 { font-size: 1.05rem; margin-top: 1.8rem; }
            .meta, .hint { color: #555; margin-top: 0; }
            .text { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 1.05rem; line-height: 2.1;
                    white-space: pre-wrap; word-break: break-word; border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1rem; }
            .tok { border-radius: 3px; padding: .15rem .05rem; }
            .gen { font-weight: bold; text-decoration: underline dotted; cursor: pointer; }
            .tok.current { outline: 2px solid #111; }
            .tok.after { opacity: .35; }
            #selected { margin-top: .8rem; font-size: 1.02rem; }
            .legend { display: flex; align-items: center; gap: .5rem; color: #555; font-size: .9rem; margin: .8rem 0; }
            .scale { width: 12rem; height: .8rem; border: 1px solid #ccc; background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255), rgb(255,0,0)); }
            .matrix-wrap { overflow-x: auto; }
            table.matrix { border-collapse: collapse; font-size: .8rem; }
            table.matrix th { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: normal; white-space: pre; padding: .1rem .3rem; }
            table.matrix thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; max-height: 8rem; overflow: hidden; }
            table.matrix td { width: 1.1rem; height: 1.1rem; border: 1px solid #f2f2f2; padding: 0; }
            table.matrix tbody tr { cursor: pointer; }
            table.matrix tbody tr.sel th { outline: 2px solid #111; }
            </style>
            </head>
            <body>
            """).Append('\n');
        html.Append("<h1>Relevance of a generated answer</h1>\n");
        html.Append($"<p class=\"meta\">model <b>{Escape(result.ModelType)}</b> · method <b>{Escape(result.Method)}</b> · "
            + $"{prompt} prompt tokens + {result.Generated.Count} generated (stopped: {Escape(result.Stop)})</p>\n");
        html.Append("<p class=\"hint\">Hover a generated token (bold) to colour the text by its relevance, each row on its own scale; click to keep it.</p>\n");

        html.Append("<div class=\"text\" id=\"text\">");
        for (int t = 0; t < positions; t++)
        {
            var cls = t >= prompt ? "tok gen" : "tok";
            var data = t >= prompt ? $" data-s=\"{(t - prompt).ToString(CultureInfo.InvariantCulture)}\"" : "";
            html.Append($"<span class=\"{cls}\" data-t=\"{t.ToString(CultureInfo.InvariantCulture)}\"{data}>{Escape(DisplayText.Visible(result.Label(t)))}</span>");
            if (result.Pieces is null) html.Append(' ');
        }
        html.Append("</div>\n");
        html.Append("<p id=\"selected\"></p>\n");
        html.Append("<div class=\"legend\"><span>negative</span><span class=\"scale\"></span><span>positive</span></div>\n");

        html.Append("<h2>Relevance matrix (rows: generated tokens; columns: positions)</h2>\n<div class=\"matrix-wrap\"><table class=\"matrix\">\n<thead><tr><th></th>");
        for (int t = 0; t < positions; t++) html.Append($"<th>{Escape(DisplayText.Visible(result.Label(t)))}</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        var page = PageData(result);
        for (int s = 0; s < result.Generated.Count; s++)
        {
            html.Append($"<tr data-s=\"{s.ToString(CultureInfo.InvariantCulture)}\"><th>{Escape(DisplayText.Visible(result.Label(prompt + s)))}</th>");
            for (int t = 0; t < positions; t++)
                html.Append($"<td style=\"background:{page.Background[s][t]}\" title=\"{Escape(page.Title[s][t])}\"></td>");
            html.Append("</tr>\n");
        }
        html.Append("</tbody>\n</table></div>\n");

        // The default encoder escapes <, >, & and quotes: the JSON cannot close the script element.
        html.Append("<script type=\"application/json\" id=\"lrp-data\">")
            .Append(JsonSerializer.Serialize(page, ReportJsonContext.Default.GenerationPageJson))
            .Append("</script>\n");
        html.Append("""
            <script>
            (function () {
              const data = JSON.parse(document.getElementById('lrp-data').textContent);
              const tokens = Array.from(document.querySelectorAll('#text .tok'));
              const rows = Array.from(document.querySelectorAll('table.matrix tbody tr'));
              const selected = document.getElementById('selected');
              let pinned = 0;
              function show(s) {
                tokens.forEach(function (el, t) {
                  el.style.background = data.background[s][t];
                  el.style.color = data.foreground[s][t];
                  el.title = data.title[s][t];
                  el.classList.toggle('current', t === data.prompt + s);
                  el.classList.toggle('after', t > data.prompt + s);
                });
                rows.forEach(function (tr, i) { tr.classList.toggle('sel', i === s); });
                selected.textContent = data.info[s];
              }
              document.querySelectorAll('[data-s]').forEach(function (el) {
                const s = Number(el.dataset.s);
                el.addEventListener('mouseenter', function () { show(s); });
                el.addEventListener('mouseleave', function () { show(pinned); });
                el.addEventListener('click', function () { pinned = s; show(s); });
              });
              if (data.info.length > 0) show(0);
            })();
            </script>
            </body>
            </html>
            """).Append('\n');
        return html.ToString();
    }

    private static GenerationPageJson PageData(GenerationResult result)
    {
        int prompt = result.PromptTokens.Count, positions = result.Positions, count = result.Generated.Count;
        var background = new string[count][];
        var foreground = new string[count][];
        var title = new string[count][];
        var info = new string[count];
        for (int s = 0; s < count; s++)
        {
            var row = result.Relevance[s];
            float max = HeatmapPalette.MaxAbs(row);
            background[s] = row.Select(r => HeatmapPalette.Background(r, max).Css).ToArray();
            foreground[s] = row.Select(r => HeatmapPalette.Foreground(r, max).Css).ToArray();
            title[s] = Enumerable.Range(0, positions).Select(t => $"position {t}, id {result.TokenAt(t).ToString(CultureInfo.InvariantCulture)}, "
                + (t < prompt + s ? $"relevance {HeatmapPalette.Format(row[t])}" : "not an input of this token")).ToArray();
            var g = result.Generated[s];
            var token = g.Piece is { } piece ? $"{g.Id} “{DisplayText.Visible(GenerationResult.Shown(piece, g.Id))}”" : g.Id.ToString(CultureInfo.InvariantCulture);
            info[s] = $"generated token {s}: {token} · logit {g.Logit.ToString("R", CultureInfo.InvariantCulture)} · "
                + $"probability {g.Probability.ToString("0.0000", CultureInfo.InvariantCulture)} · sum of relevance {HeatmapPalette.Format(g.RelevanceSum)} · "
                + $"max |R| {HeatmapPalette.Format(max)}";
        }
        return new GenerationPageJson(prompt, background, foreground, title, info);
    }

    private static string Escape(string text) => HtmlReport.Escape(text);
}
