using System;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using PuppeteerSharp;
using Xunit;
using Xunit.Abstractions;

namespace LrpGen.Cli.Tests;

/// <summary>The generation page in a real browser: the system's headless Chromium, driven over the DevTools protocol
/// (PuppeteerSharp, with no browser download), renders the generated tokens; hovering a generated token recolours the
/// text with exactly that token's row of the --json matrix (HeatmapPalette on the row's own scale); the screenshot shows
/// red and blue. Where Chromium is not installed the test says so and passes without checking.</summary>
public class GenerationBrowserTests
{
    private readonly ITestOutputHelper _output;

    public GenerationBrowserTests(ITestOutputHelper output) => _output = output;

    private const string TokenBackgrounds = "Array.from(document.querySelectorAll('#text .tok')).map(e => getComputedStyle(e).backgroundColor)";

    /// <summary>The CSS colour a browser reports for the palette's colour of <paramref name="value"/>: "rgb(r, g, b)".</summary>
    private static string Expected(float value, float max)
    {
        var c = HeatmapPalette.Background(value, max);
        return $"rgb({c.R}, {c.G}, {c.B})";
    }

    [Fact]
    public async Task HoveringAGeneratedTokenColoursTheTextByItsRow()
    {
        var chromium = BrowserTests.Chromium();
        if (chromium is null)
        {
            _output.WriteLine("SKIPPED: Chromium is not installed (apt-get install chromium); the page was not checked in a browser.");
            return;
        }
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", GenerateCommandTests.WordTokenizer(temp)));
        var html = temp.File("generate.html");
        var json = temp.File("generate.json");
        // Input x gradient has inputs of both signs.
        var run = CliRun.Plain("generate", folder, "--text", "k5k k17k k3k k42k k8k", "--max-new-tokens", "4", "--method", "gradx", "--html", html, "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = TempFolder.ReadJson(json);
        var generated = report.RootElement.GetProperty("generated").EnumerateArray().Select(g => g.GetProperty("piece").GetString()!).ToArray();
        var rows = report.RootElement.GetProperty("relevance").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = chromium,
            UserDataDir = temp.File("profile"),
            Args = new[] { "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync" },
        });
        await using var page = await browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 1000 });
        await page.GoToAsync("file://" + html);

        // The generated tokens are on the page, as text.
        var shown = await page.EvaluateExpressionAsync<string[]>("Array.from(document.querySelectorAll('#text .gen')).map(e => e.textContent)");
        Assert.Equal(generated.Select(DisplayText.Visible), shown);

        // At first the text shows row 0; hovering generated token s shows row s, and leaving it goes back to row 0.
        void AssertRow(string[] backgrounds, int s)
        {
            float max = HeatmapPalette.MaxAbs(rows[s]);
            for (int t = 0; t < rows[s].Length; t++)
                Assert.True(Expected(rows[s][t], max) == backgrounds[t], $"row {s}, position {t}: {backgrounds[t]}, expected {Expected(rows[s][t], max)} for {rows[s][t]}");
        }
        var initial = await page.EvaluateExpressionAsync<string[]>(TokenBackgrounds);
        AssertRow(initial, 0);
        int hovered = rows.Length - 1;
        await page.HoverAsync($"#text .gen[data-s='{hovered}']");
        var onHover = await page.EvaluateExpressionAsync<string[]>(TokenBackgrounds);
        Assert.NotEqual(initial, onHover);
        AssertRow(onHover, hovered);
        var line = await page.EvaluateExpressionAsync<string>("document.getElementById('selected').textContent");
        Assert.StartsWith($"generated token {hovered}: ", line);

        // Clicking keeps a row after the pointer leaves.
        await page.ClickAsync("#text .gen[data-s='1']");
        await page.Mouse.MoveAsync(1, 1);
        AssertRow(await page.EvaluateExpressionAsync<string[]>(TokenBackgrounds), 1);

        var png = temp.File("page.png");
        await page.ScreenshotAsync(png, new ScreenshotOptions { FullPage = true });
        var (red, blue) = BrowserTests.Colours(png);
        Assert.True(red > 50, $"no positive (red) token on screen: {red} red pixels");
        Assert.True(blue > 50, $"no negative (blue) token on screen: {blue} blue pixels");
    }
}
