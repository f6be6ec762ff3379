using System;
using System.Linq;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 11, item 8: control and bidirectional characters from tokens are escaped in HTML and the terminal;
/// empty sentences are refused; colours only on a terminal without NO_COLOR; a missing CUDA device is a runtime
/// error.</summary>
public class TextSafetyTests
{
    private static ExplainResult WithPieces(params string[] pieces) => new()
    {
        ModelType = "llama",
        Method = "attnlrp",
        Target = 0,
        TargetPiece = "\u202etarget",
        Logit = 1f,
        Tokens = pieces.Select((_, i) => (long)i).ToArray(),
        Pieces = pieces,
        Relevance = pieces.Select((_, i) => i + 1f).ToArray(),
        Latent = Array.Empty<System.Collections.Generic.KeyValuePair<string, float[]>>(),
    };

    [Theory]
    [InlineData("abc\u202edef", "abc\\u202edef")]       // RIGHT-TO-LEFT OVERRIDE
    [InlineData("\u2066x\u2069", "\\u2066x\\u2069")]      // isolates
    [InlineData("a\u200fb", "a\\u200fb")]                 // RIGHT-TO-LEFT MARK
    [InlineData("a\u001b[31mb", "a\\u001b[31mb")]         // a terminal escape sequence
    [InlineData("a\u2028b", "a\\u2028b")]                 // LINE SEPARATOR
    [InlineData("line\n", "line\\n")]
    [InlineData("Ġthe", "Ġthe")]
    [InlineData("é中", "é中")]
    public void VisibleEscapesControlAndBidiCharacters(string text, string shown) => Assert.Equal(shown, DisplayText.Visible(text));

    [Fact]
    public void TerminalAndHtmlShowBidiOverridesEscaped()
    {
        var result = WithPieces("safe", "evil\u202etxt.exe", "tab\there");
        var terminal = new System.IO.StringWriter();

        TerminalHeatmap.Write(terminal, result, colour: true);
        var html = HtmlReport.Render(result);

        foreach (var output in new[] { terminal.ToString(), html })
        {
            Assert.DoesNotContain('\u202e', output);
            Assert.DoesNotContain('\t', output);
            Assert.Contains("evil\\u202etxt.exe", output);
            Assert.Contains("\\u202etarget", output);
        }
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("a sentence", "   ")]
    public void EmptySentencesAreRefused(string a, string b)
    {
        var run = CliRun.Of("similarity", a, b);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("is empty", run.Stderr);
        Assert.DoesNotContain("loading", run.Stderr);
    }

    [Fact]
    public void EmptyTextIsRefused()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer.json")));

        var run = CliRun.Of("explain", folder, "--text", "");

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("--text is empty", run.Stderr);
        Assert.DoesNotContain("loading", run.Stderr);
    }

    [Theory]
    [InlineData(false, null, true)]
    [InlineData(false, "", true)]
    [InlineData(true, null, false)]
    [InlineData(false, "1", false)]
    [InlineData(true, "1", false)]
    public void ColoursOnlyOnATerminalWithoutNoColor(bool redirected, string? noColor, bool colour) =>
        Assert.Equal(colour, TerminalColour.Decide(redirected, noColor));

    [Fact]
    public void WithoutColourTheHeatmapHasNoEscapeSequencesButEveryValue()
    {
        using var temp = new TempFolder();
        var json = temp.File("out.json");

        var run = CliRun.Plain("explain", GoldenData.Folder("llama"), "--ids", "5,17,3", "--json", json);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        Assert.False(run.Stdout.Contains('\u001b'), run.Stdout);
        using var doc = TempFolder.ReadJson(json);
        foreach (var r in doc.RootElement.GetProperty("relevance").EnumerateArray())
            Assert.Contains(HeatmapPalette.Format(r.GetSingle()), run.Stdout);
    }

    [Fact]
    public void AMissingCudaDeviceIsARuntimeError()
    {
        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--ids", "5", "--device", "cuda");

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("CUDA is not available", run.Stderr);
        Assert.DoesNotContain("Usage:", run.Stderr);
    }
}

/// <summary>Errors are one line: a native error's C++ frames are left out; only the CLI's own argument errors exit 2.</summary>
public class ErrorLineTests
{
    [Fact]
    public void ANativeErrorIsDescribedByItsFirstLine()
    {
        var native = new System.Runtime.InteropServices.ExternalException("index out of range in self\nException raised from operator() at ../aten/src/ATen/native/TensorAdvancedIndexing.cpp:1220 (most recent call first):\nframe #0: c10::Error::Error");

        Assert.Equal("index out of range in self (ExternalException)", ErrorMessages.Describe(native));
    }
}
