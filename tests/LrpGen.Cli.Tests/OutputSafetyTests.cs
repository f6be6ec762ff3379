using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using LrpGen.IO;
using LrpGen.Models.Sentences;
using LrpGen.Visualization;
using SkiaSharp;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 11, item 1: a failing run never changes an existing output file, for every writer (JSON, HTML,
/// PNG/JPEG, evaluation CSV/Markdown/plots): each is written to a temporary file beside it and moved into place when
/// complete; same-path outputs and unwritable folders are found before any work.</summary>
public class OutputSafetyTests
{
    private static readonly ExplainResult Result = new()
    {
        ModelType = "llama",
        Method = "attnlrp",
        Target = 2,
        TargetPiece = "x",
        Logit = 1.5f,
        Tokens = Enumerable.Range(0, 400).Select(i => (long)i).ToArray(),
        Pieces = Enumerable.Range(0, 400).Select(i => $"piece{i}").ToArray(),
        Relevance = Enumerable.Range(0, 400).Select(i => i * 0.001f).ToArray(),
        Latent = new[] { new KeyValuePair<string, float[]>("layers.0", new float[400]) },
    };

    private static readonly SimilarityExplanation Similarity = new(0.5f, LrpMethod.AttnLrp,
        new SentenceRelevance("a b", new long[] { 101, 1, 2, 102 }, new[] { "[CLS]", "a", "b", "[SEP]" }, new[] { 0f, 0.5f, -0.2f, 0f }),
        new SentenceRelevance("c d", new long[] { 101, 3, 4, 102 }, new[] { "[CLS]", "c", "d", "[SEP]" }, new[] { 0f, 0.1f, 0.3f, 0f }));

    /// <summary>Every writer of the tool, as the commands call it: into a stream.</summary>
    public static TheoryData<string> Writers() => new() { "explain json", "explain html", "similarity json", "similarity html", "heatmap png", "heatmap jpg", "evaluation csv" };

    private static void Writer(string name, Stream stream)
    {
        switch (name)
        {
            case "explain json": JsonReport.Write(stream, Result); break;
            case "explain html": HtmlReport.Write(stream, Result); break;
            case "similarity json": SimilarityReport.WriteJson(stream, Similarity); break;
            case "similarity html": SimilarityReport.WriteHtml(stream, Similarity); break;
            case "heatmap png":
            case "heatmap jpg":
            {
                using var map = TorchSharp.torch.rand(64, 64);
                using var bitmap = HeatmapImage.Render(RelevanceMap.FromTensor(map));
                var bytes = HeatmapImage.Encode(bitmap, name.EndsWith("png") ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg);
                stream.Write(bytes);
                break;
            }
            case "evaluation csv":
            {
                var rows = Enumerable.Range(0, 200).Select(i => new[] { $"method{i}", "0.5", "0.25" }).ToList();
                stream.Write(Encoding.UTF8.GetBytes(LrpGen.Evaluation.EvaluationReport.Csv(new[] { "method", "abpc", "x" }, rows)));
                break;
            }
            default: throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void ADiskFullDuringAWriteLeavesTheExistingFileUnchanged(string writer)
    {
        using var temp = new TempFolder();
        var path = temp.File("out.bin");
        var unchanged = BadInputs.Existing(path);

        var e = Assert.Throws<IOException>(() => OutputFiles.Write(path, stream => Writer(writer, new FullDiskStream(stream, 100))));

        Assert.Contains("No space left", e.Message);
        unchanged();
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void ACompleteWriteReplacesTheFile(string writer)
    {
        using var temp = new TempFolder();
        var path = temp.File("out.bin");
        File.WriteAllText(path, "old");
        var expected = new MemoryStream();
        Writer(writer, expected);

        OutputFiles.Write(path, stream => Writer(writer, stream));

        var written = File.ReadAllBytes(path);
        if (writer.StartsWith("heatmap")) Assert.Equal(expected.Length > 0, written.Length > 0);   // PNG/JPEG encoders may differ in metadata
        else Assert.Equal(expected.ToArray(), written);
        Assert.Single(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void AFailingSecondOutputLeavesTheFirstUnchanged()
    {
        using var temp = new TempFolder();
        string json = temp.File("out.json"), html = temp.File("out.html");
        var unchanged = BadInputs.Existing(json, html);
        var stderr = new StringWriter();

        using (var outputs = new StagedOutputs(stderr))
        {
            outputs.Add(json, stream => JsonReport.Write(stream, Result));
            var e = Assert.Throws<CliRuntimeException>(() => outputs.Add(html, stream => HtmlReport.Write(new FullDiskStream(stream, 10), Result)));
            Assert.Contains(html, e.Message);
        }

        unchanged();
        Assert.DoesNotContain("wrote", stderr.ToString());
    }

    [Fact]
    public void AFailedMoveIntoPlacePutsBackTheFilesAlreadyMoved()
    {
        using var temp = new TempFolder();
        string json = temp.File("out.json"), fresh = temp.File("new.html"), blocked = temp.File("blocked.png");
        var unchanged = BadInputs.Existing(json);
        Directory.CreateDirectory(blocked);   // a folder where the last file should go: its move fails

        using (var files = new OutputFiles())
        {
            files.Stage(json, stream => JsonReport.Write(stream, Result));
            files.Stage(fresh, stream => HtmlReport.Write(stream, Result));
            files.Stage(blocked, stream => stream.Write(new byte[] { 1, 2, 3 }));
            Assert.ThrowsAny<IOException>(files.Commit);
        }

        Directory.Delete(blocked);
        Assert.False(File.Exists(fresh));
        unchanged();
    }

    [Fact]
    public void AFailingPlotLeavesTheExistingPlotUnchanged()
    {
        using var temp = new TempFolder();
        var png = temp.File("plot.png");
        var unchanged = BadInputs.Existing(png);

        Assert.Throws<InvalidOperationException>(() => OutputFiles.WriteVia(png, path =>
        {
            File.WriteAllBytes(path, new byte[] { 0x89, 0x50 });
            throw new InvalidOperationException("the plot failed half-way");
        }));

        unchanged();
    }

    [Fact]
    public void ExplainWithANonFiniteWeightLeavesJsonAndHtmlUnchanged()
    {
        using var temp = new TempFolder();
        var folder = BadInputs.ModelWithValue(temp, "llama", "model.layers.1.mlp.up_proj.weight", float.NaN);
        string json = temp.File("out.json"), html = temp.File("out.html");
        var unchanged = BadInputs.Existing(json, html);

        var run = CliRun.Of("explain", folder, "--ids", "5,17,3", "--json", json, "--html", html);

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        unchanged();
    }

    [Fact]
    public void ExplainImageWithNaNPixelsLeavesOutAndJsonUnchanged()
    {
        using var temp = new TempFolder();
        var pixels = BadInputs.Pixels(temp, 0.5f, float.NaN);
        string png = temp.File("heat.png"), json = temp.File("map.json");
        var unchanged = BadInputs.Existing(png, json);

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", pixels, "--out", png, "--json", json);

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("'pixels'", run.Stderr);
        Assert.Contains("1 NaN", run.Stderr);
        unchanged();
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    public void ExplainImageWithANonFiniteGammaIsAUsageErrorAndLeavesJsonUnchanged(string gamma)
    {
        using var temp = new TempFolder();
        var json = temp.File("map.json");
        var unchanged = BadInputs.Existing(json);

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", Path.Combine(GoldenData.Folder("vit"), "attnlrp.safetensors"),
            "--gamma-linear", gamma, "--json", json);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("--gamma-linear must be a finite number", run.Stderr);
        unchanged();
    }

    [Fact]
    public void JsonAndHtmlOnTheSamePathIsAUsageError()
    {
        using var temp = new TempFolder();
        var same = temp.File("out.txt");
        var unchanged = BadInputs.Existing(same);

        var run = CliRun.Of("explain", GoldenData.Folder("llama"), "--ids", "5,17", "--json", same, "--html", Path.Combine(temp.Path, ".", "out.txt"));

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("--json and --html name the same file", run.Stderr);
        unchanged();
    }

    [Theory]
    [InlineData("explain")]
    [InlineData("explain-image")]
    [InlineData("similarity")]
    public void AnUnwritableFolderIsReportedBeforeTheModelIsLoaded(string command)
    {
        // /sys refuses new files even to root.
        const string target = "/sys/lrpgen-test-output.json";
        var args = command switch
        {
            "explain" => new[] { "explain", GoldenData.Folder("llama"), "--ids", "5,17", "--json", target },
            "explain-image" => new[] { "explain-image", GoldenData.Folder("vit"), "--pixels", Path.Combine(GoldenData.Folder("vit"), "attnlrp.safetensors"), "--json", target },
            _ => new[] { "similarity", "a cat", "a dog", "--json", target },
        };

        var run = CliRun.Of(args);

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("--json '/sys/lrpgen-test-output.json': cannot write in the folder /sys", run.Stderr);
        Assert.DoesNotContain("loading", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void EvaluateOutputInAnUnwritableFolderIsReportedBeforeTheEvaluation()
    {
        var run = CliRun.Of("evaluate", "recall", "--examples", "1", "--output", "/sys/lrpgen-test-evaluation");

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("cannot write in /sys", run.Stderr);
        Assert.DoesNotContain("loading", run.Stderr);
    }
}
