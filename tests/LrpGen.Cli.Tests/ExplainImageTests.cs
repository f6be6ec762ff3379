using System;
using System.IO;
using System.Linq;
using LrpGen.Models.HuggingFace;
using SkiaSharp;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Cli.Tests;

/// <summary>lrpgen explain-image: LXT's ViT numbers through --pixels and --json, an image file in and a PNG heatmap out,
/// argument errors.</summary>
public class ExplainImageTests
{
    [Theory]
    [InlineData("attnlrp")]
    [InlineData("gradx")]
    public void PixelsJsonMatchesLxt(string method)
    {
        var folder = GoldenData.Folder("vit");
        var goldenPath = Path.Combine(folder, method + ".safetensors");
        var golden = SafetensorsFile.Open(goldenPath);
        using var temp = new TempFolder();
        var json = temp.File("vit.json");
        // The golden file itself holds the input tensor "pixels".
        var run = CliRun.Of("explain-image", folder, "--pixels", goldenPath, "--method", method, "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        Assert.Equal(golden.Load("target").item<long>(), doc.RootElement.GetProperty("target").GetInt64());
        long target = golden.Load("target").item<long>();
        Assert.True(Math.Abs(doc.RootElement.GetProperty("logit").GetDouble() - golden.Load("logits_last")[target].item<float>()) <= 1e-5);
        var rows = doc.RootElement.GetProperty("relevance_map").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var expected = golden.Load("relevance_map").to(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal(32, rows.Length);
        double max = expected.Max(Math.Abs);
        double diff = rows.SelectMany(r => r).Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(diff <= 2e-4 * max, $"relevance_map: max |diff| {diff:E3} > 2e-4 x {max:E3}");
    }

    [Fact]
    public void ImageFileInPngHeatmapOut()
    {
        using var temp = new TempFolder();
        var image = temp.File("in.png");
        using (var bitmap = new SKBitmap(40, 40))
        {
            for (int y = 0; y < 40; y++)
                for (int x = 0; x < 40; x++)
                    bitmap.SetPixel(x, y, x > 10 && x < 25 && y > 12 && y < 30 ? new SKColor(230, 40, 40) : new SKColor(30, 30, (byte)(x * 5)));
            using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(image, data.ToArray());
        }
        var png = temp.File("heatmap.png");
        var json = temp.File("map.json");
        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), image, "--out", png, "--json", json, "--gamma-conv", "0.1");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var heatmap = SKBitmap.Decode(png);
        Assert.True(heatmap.Width >= 256, $"heatmap only {heatmap.Width} px wide");
        using var doc = TempFolder.ReadJson(json);
        Assert.Equal(32, doc.RootElement.GetProperty("relevance_map").GetArrayLength());
        Assert.Contains("target class", run.Stdout);
    }

    [Theory]
    [InlineData("no input", new string[0])]
    [InlineData("both inputs", new[] { "x.png", "--pixels", "p.safetensors" })]
    [InlineData("negative gamma", new[] { "--pixels", "p.safetensors", "--gamma-linear", "-1" })]
    public void ArgumentErrors(string what, string[] extra)
    {
        var run = CliRun.Of(new[] { "explain-image", GoldenData.Folder("vit") }.Concat(extra).ToArray());
        Assert.True(run.ExitCode == 2, $"{what}: {run}");
        Assert.DoesNotContain("   at ", run.Stderr);
    }
}
