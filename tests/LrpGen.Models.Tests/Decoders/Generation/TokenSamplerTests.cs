using System;
using System.Linq;
using LrpGen.Models.Decoders;
using Xunit;

namespace LrpGen.Models.Tests.Decoders.Generation;

/// <summary>The sampling distribution against values worked out by hand, and draws against it.</summary>
public class TokenSamplerTests
{
    // ln 4, ln 2, ln 1, ln 1: softmax = 4/8, 2/8, 1/8, 1/8.
    private static readonly float[] Logits = { (float)Math.Log(4), (float)Math.Log(2), 0, 0 };

    private static void Equal(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-6, $"p[{i}] = {actual[i]}, expected {expected[i]}");
    }

    [Fact]
    public void TemperatureTopKAndTopPShapeTheDistribution()
    {
        Equal(new[] { 0.5, 0.25, 0.125, 0.125 }, TokenSampler.Probabilities(Logits, new GenerationOptions { Temperature = 1 }));
        // Temperature 2 takes square roots: 2, sqrt 2, 1, 1 over their sum.
        double sum = 2 + Math.Sqrt(2) + 2;
        Equal(new[] { 2 / sum, Math.Sqrt(2) / sum, 1 / sum, 1 / sum }, TokenSampler.Probabilities(Logits, new GenerationOptions { Temperature = 2 }));
        Equal(new[] { 2 / 3.0, 1 / 3.0, 0, 0 }, TokenSampler.Probabilities(Logits, new GenerationOptions { Temperature = 1, TopK = 2 }));
        // Top-p 0.6: 0.5 does not reach it, 0.5 + 0.25 does; 0.5 exactly keeps the first alone.
        Equal(new[] { 2 / 3.0, 1 / 3.0, 0, 0 }, TokenSampler.Probabilities(Logits, new GenerationOptions { Temperature = 1, TopP = 0.6 }));
        Equal(new[] { 1.0, 0, 0, 0 }, TokenSampler.Probabilities(Logits, new GenerationOptions { Temperature = 1, TopP = 0.5 }));
        // Ties at the edge of top-k are broken by index: token 2 is kept, token 3 is not.
        Equal(new[] { 4 / 7.0, 2 / 7.0, 1 / 7.0, 0 }, TokenSampler.Probabilities(Logits, new GenerationOptions { Temperature = 1, TopK = 3 }));
    }

    [Fact]
    public void DrawsFollowTheDistribution()
    {
        var options = new GenerationOptions { Temperature = 1, TopK = 3 };
        var random = new Random(3);
        var counts = new int[4];
        const int draws = 40_000;
        for (int i = 0; i < draws; i++) counts[TokenSampler.Next(Logits, options, random)]++;
        var expected = new[] { 4 / 7.0, 2 / 7.0, 1 / 7.0, 0 };
        for (int i = 0; i < 4; i++)
            Assert.True(Math.Abs(counts[i] / (double)draws - expected[i]) < 0.01, $"token {i}: {counts[i]} of {draws}, expected {expected[i]:F3}");
    }

    [Fact]
    public void GreedyTakesTheFirstTopLogitAndNaNIsAnError()
    {
        Assert.Equal(1, TokenSampler.Next(new float[] { 1, 3, 3, 2 }, new GenerationOptions(), null));
        var e = Assert.Throws<ArgumentException>(() => TokenSampler.Next(new float[] { 1, float.NaN }, new GenerationOptions(), null));
        Assert.Contains("logit 1 is NaN", e.Message);
    }
}
