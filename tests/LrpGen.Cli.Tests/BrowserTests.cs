using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace LrpGen.Cli.Tests;

/// <summary>The HTML reports in a real browser: headless Chromium (Debian's chromium package) renders each page; the
/// test reads the rendered DOM for the tokens and the screenshot for the colours (a positive token red, a negative one
/// blue). Where Chromium is not installed the test says so and passes without checking.</summary>
public class BrowserTests
{
    private readonly ITestOutputHelper _output;

    public BrowserTests(ITestOutputHelper output) => _output = output;

    internal static string? Chromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    private static string RunChromium(string chromium, string userData, params string[] args)
    {
        var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={userData}" })
            psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException("chromium did not finish in 60 s"); }
        return stdout.Result;
    }

    /// <summary>Counts strongly red and strongly blue pixels in the screenshot.</summary>
    internal static (int Red, int Blue) Colours(string png)
    {
        using var bitmap = SKBitmap.Decode(png);
        int red = 0, blue = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red > 200 && c.Green < 120 && c.Blue < 120) red++;
                if (c.Blue > 200 && c.Red < 120 && c.Green < 120) blue++;
            }
        return (red, blue);
    }

    private void CheckPage(string html, string[] expectedTokens)
    {
        var chromium = Chromium();
        if (chromium is null)
        {
            _output.WriteLine("SKIPPED: Chromium is not installed (apt-get install chromium); the page was not checked in a browser.");
            return;
        }
        using var temp = new TempFolder();
        var png = temp.File("page.png");
        var dom = RunChromium(chromium, temp.File("profile-dom"), "--dump-dom", "file://" + html);
        foreach (var token in expectedTokens) Assert.Contains(token, dom);
        RunChromium(chromium, temp.File("profile-shot"), "--window-size=1400,1000", "--hide-scrollbars", $"--screenshot={png}", "file://" + html);
        Assert.True(File.Exists(png), "chromium wrote no screenshot");
        var (red, blue) = Colours(png);
        Assert.True(red > 50, $"no positive (red) token on screen: {red} red pixels");
        Assert.True(blue > 50, $"no negative (blue) token on screen: {blue} blue pixels");
    }

    [Fact]
    public void ExplainReportShowsTokensInRedAndBlue()
    {
        using var temp = new TempFolder();
        var html = temp.File("explain.html");
        // Input x gradient on the golden LLaMA has tokens of both signs.
        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--ids", "5,17,3,42,8,23,11,60,2,9", "--method", "gradx", "--html", html);
        Assert.True(run.ExitCode == 0, run.ToString());
        CheckPage(html, new[] { "42", "23", "60" });
    }

    [Fact]
    public void SimilarityReportShowsBothSentences()
    {
        using var temp = new TempFolder();
        var html = temp.File("similarity.html");
        var run = CliRun.Of("similarity", "The cat chased a mouse around the old barn.", "Quarterly revenue grew by ten percent.", "--method", "gradx", "--html", html);
        Assert.True(run.ExitCode == 0, run.ToString());
        CheckPage(html, new[] { "chased", "barn", "revenue", "percent" });
    }
}
