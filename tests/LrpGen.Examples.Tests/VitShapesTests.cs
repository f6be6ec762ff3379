using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Vit;
using SkiaSharp;
using TorchSharp;
using VitShapes;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Examples.Tests;

/// <summary>The VitShapes example on a few images with the committed weights: the pipeline, not the scores.</summary>
public sealed class VitShapesTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lrpgen-vitshapes-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    /// <summary>examples/VitShapes/model of this repository (the committed weights).</summary>
    private static string CommittedModel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var model = Path.Combine(dir.FullName, "examples", "VitShapes", "model");
            if (File.Exists(Path.Combine(model, "model.safetensors"))) return model;
        }
        throw new InvalidOperationException("examples/VitShapes/model/model.safetensors was not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void CommandLineRunsEndToEndAndWritesFigures()
    {
        var output = new StringWriter();
        int code = VitShapesApp.Run(new[] { "--model", CommittedModel(), "--images", "6", "--examples", "1", "--figures", _folder }, output);
        string text = output.ToString();
        Assert.True(code == 0, text);
        foreach (var method in PointingGame.Methods)
            Assert.Contains($"| {method.Name} | ", text);
        Assert.Contains("6 test images", text);

        foreach (var name in new[] { "grid.png", "side-by-side.png" })
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(_folder, name));
            Assert.NotNull(bitmap);
            Assert.True(bitmap.Width >= 256 && bitmap.Height >= 256, $"{name} is {bitmap.Width}x{bitmap.Height}");
        }
        Assert.Contains("| random |", File.ReadAllText(Path.Combine(_folder, "pointing-game.md")));
    }

    [Fact]
    public void PointingGameScoresEveryMethodOnEveryImage()
    {
        using var vit = VitClassifier.Load(CommittedModel());
        Assert.Equal(ShapesData.Size, vit.Config.ImageSize);
        Assert.Equal(ShapesData.ClassNames.Length, vit.Config.Classes);
        var samples = ShapesData.Generate(Training.TestSeed, 0, 8);
        var report = PointingGame.Evaluate(vit, samples, examplesPerClass: 8, batch: 5);

        Assert.Equal(8, report.Images);
        Assert.InRange(report.Accuracy, 0, 1);
        Assert.InRange(report.MeanBoxShare, 0.05, 0.4);
        Assert.Equal(PointingGame.Methods.Select(m => m.Name), report.Scores.Select(s => s.Method));
        foreach (var score in report.Scores)
        {
            Assert.Equal(8, score.Images);
            Assert.InRange(score.Hits, 0, 8);
            Assert.InRange(score.MeanPositiveShareInBox, 0, 1);
        }
        Assert.Equal(8, report.Examples.Count);
        foreach (var example in report.Examples)
        {
            Assert.Equal(PointingGame.Methods.Count, example.Maps.Length);
            Assert.All(example.Maps, m => Assert.Equal(ShapesData.Size * ShapesData.Size, m.Length));
            Assert.All(example.Maps, m => Assert.True(m.All(float.IsFinite) && m.Any(v => v != 0)));
            // LXT's recipe keeps CP-LRP inside attention: LrpMethod.AttnLrp and CpLrp give the same map.
            Assert.Equal(example.Maps[0], example.Maps[1]);
        }
        // With AttnLRP's rules inside attention the maps differ from the recipe's.
        Assert.Contains(report.Examples, e => !e.Maps[0].SequenceEqual(e.Maps[2]));
    }

    [Fact]
    public void SavedModelLoadsWithTorchvisionNames()
    {
        var config = new VitConfig(ImageSize: 8, PatchSize: 4, Layers: 1, Heads: 2, HiddenDim: 8, MlpDim: 16, Classes: 3, GammaConv: 0.25, GammaLinear: 0.05);
        torch.manual_seed(3);
        using var model = new VisionTransformer(config);
        foreach (var p in model.parameters())
            using (torch.no_grad()) p.normal_();
        Training.Save(model, config, _folder);
        using var loaded = VitClassifier.Load(_folder);
        Assert.Equal(config, loaded.Config);
        using var input = torch.randn(2, 3, 8, 8);
        using var _ = torch.no_grad();
        using var expected = model.call(input);
        using var actual = loaded.Model.call(input);
        Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6));
        Assert.Equal("encoder.layers.encoder_layer_0.mlp.3.bias", Training.TorchvisionName("layers.0.mlp_3.bias"));
    }

    [Fact]
    public void ImagesAreDeterministicAndBoxesHoldTheObject()
    {
        var a = ShapesData.Make(123);
        var b = ShapesData.Make(123);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.Equal(a.Box, b.Box);
        foreach (var s in ShapesData.Generate(5, 0, 50))
        {
            Assert.InRange(s.Label, 0, ShapesData.ClassNames.Length - 1);
            Assert.All(s.Pixels, v => Assert.InRange(v, 0f, 1f));
            Assert.InRange(s.Box.X1 - s.Box.X0, 5, 18);
            Assert.InRange(s.Box.Y1 - s.Box.Y0, 5, 18);
            Assert.True(s.Box.X0 >= 0 && s.Box.Y0 >= 0 && s.Box.X1 <= ShapesData.Size && s.Box.Y1 <= ShapesData.Size);
        }
        var classes = ShapesData.Generate(6, 0, 200).Select(s => s.Label).Distinct().Count();
        Assert.Equal(ShapesData.ClassNames.Length, classes);
    }

    [Fact]
    public void MeasureCountsTheMaximumAndThePositiveShare()
    {
        int size = ShapesData.Size;
        var map = new float[size * size];
        map[2 * size + 3] = 3f;       // (3, 2): inside
        map[20 * size + 20] = 1f;     // (20, 20): outside
        map[0] = -5f;                 // negative: ignored
        var box = new Box(2, 2, 6, 6);
        var (hit, nearHit, share) = PointingGame.Measure(map, size, box);
        Assert.True(hit);
        Assert.True(nearHit);
        Assert.Equal(0.75, share, 6);
        map[20 * size + 20] = 4f;
        Assert.False(PointingGame.Measure(map, size, box).Hit);
        Assert.False(PointingGame.Measure(map, size, box).NearHit);
        map[6 * size + 6] = 5f;       // (6, 6): one pixel right of and below the box
        Assert.False(PointingGame.Measure(map, size, box).Hit);
        Assert.True(PointingGame.Measure(map, size, box).NearHit);
        map[7 * size + 6] = 6f;       // (6, 7): two rows below
        Assert.False(PointingGame.Measure(map, size, box).NearHit);
        Assert.Equal(0.0, PointingGame.Measure(new float[size * size], size, box).PositiveShare);
    }

    [Fact]
    public void SignTestMatchesTheBinomialDistribution()
    {
        Assert.Equal(1.0, PointingGame.SignTestP(0, 0));
        Assert.Equal(1.0, PointingGame.SignTestP(3, 3), 12);
        Assert.Equal(1.0, PointingGame.SignTestP(3, 2), 12);              // 2 * (1 + 5 + 10) / 32, capped at 1
        Assert.Equal(2 * (1 + 8 + 28) / 256.0, PointingGame.SignTestP(2, 6), 12);
        Assert.Equal(2 / 32.0, PointingGame.SignTestP(5, 0), 12);
        Assert.Equal(2 * (1 + 6) / 64.0, PointingGame.SignTestP(1, 5), 12);
        Assert.InRange(PointingGame.SignTestP(1000, 100), 0, 1e-100);
    }

    [Fact]
    public void BadArgumentsPrintTheUsage()
    {
        var output = new StringWriter();
        Assert.Equal(2, VitShapesApp.Run(new[] { "--images", "0" }, output));
        Assert.Contains("usage:", output.ToString());
        Assert.Equal(2, VitShapesApp.Run(new[] { "--bogus" }, new StringWriter()));
        Assert.Equal(2, VitShapesApp.Run(new[] { "--model" }, new StringWriter()));
    }
}
