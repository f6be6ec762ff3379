using System;
using System.Linq;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Vit;

/// <summary>VitClassifier.ExplainTopK: the K most probable classes in one forward and one batched backward; row k equals
/// the single-class explanation of its class.</summary>
public class VitTopKTests
{
    [Theory]
    [InlineData(LrpMethod.AttnLrp, 3)]
    [InlineData(LrpMethod.Gradient, 10)]
    [InlineData(LrpMethod.CpLrp, 1)]
    public void RowKIsTheSingleClassExplanation(LrpMethod method, int k)
    {
        var folder = GoldenData.Folder("vit");
        using var vit = VitClassifier.Load(folder);
        var golden = SafetensorsFile.Open(System.IO.Path.Combine(folder, "attnlrp.safetensors"));
        using var one = golden.Load("pixels");
        // Two images: the golden one and a second, different one.
        using var other = one.flip(3).mul(0.7);
        using var pixels = torch.cat(new[] { one, other }, 0);
        var (classes, logits, probabilities, relevance) = vit.ExplainTopK(pixels, k, method);
        using (relevance)
        {
            Assert.Equal(new long[] { k, 2, 3, 32, 32 }, relevance.shape);
            using var allLogits = vit.Model.call(pixels);
            using var softmax = allLogits.to(ScalarType.Float64).softmax(1);
            for (int b = 0; b < 2; b++)
            {
                // The classes are the k most probable, in decreasing order, with their logits and probabilities.
                var row = allLogits[b].data<float>().ToArray();
                var expectedOrder = Enumerable.Range(0, row.Length).OrderByDescending(c => row[c]).Take(k).Select(c => (long)c).ToArray();
                Assert.Equal(expectedOrder, classes[b]);
                for (int j = 0; j < k; j++)
                {
                    Assert.Equal(row[classes[b][j]], logits[b][j], 5);
                    Assert.Equal(softmax[b, classes[b][j]].item<double>(), probabilities[b][j], 5);
                }
            }
            for (int j = 0; j < k; j++)
            {
                var targets = new[] { classes[0][j], classes[1][j] };
                var (_, single, expected) = vit.Explain(pixels, method, targets);
                using (expected)
                {
                    for (int b = 0; b < 2; b++) Assert.Equal(logits[b][j], single[b], 5);
                    for (int b = 0; b < 2; b++)
                    {
                        using var e = expected[b].to(ScalarType.Float64);
                        using var r = relevance[j, b].to(ScalarType.Float64);
                        double scale = e.abs().max().item<double>();
                        double diff = (r - e).abs().max().item<double>();
                        Assert.True(scale > 0, "the single-class relevance is all zero");
                        Assert.True(diff <= 1e-5 * scale, $"row {j}, image {b}: max |diff| {diff:E3} > 1e-5 x {scale:E3}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(11)]
    public void KOutsideOneToTheClassCountIsRefused(int k)
    {
        using var vit = VitClassifier.Load(GoldenData.Folder("vit"));
        using var pixels = torch.zeros(1, 3, 32, 32);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => vit.ExplainTopK(pixels, k, LrpMethod.AttnLrp));
        Assert.Contains($"top-k {k}: explain between 1 and the model's 10 classes", e.Message);
    }
}
