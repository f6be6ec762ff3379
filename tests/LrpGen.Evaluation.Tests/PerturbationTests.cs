using System;
using System.Linq;
using Xunit;

namespace LrpGen.Evaluation.Tests;

public class PerturbationTests
{
    [Fact]
    public void AreaIsTheTrapezoidRuleOverTheFractionRemoved()
    {
        // T = 2: ((1 + 0.5) / 2 + (0.5 + 0) / 2) / 2 = 0.5
        Assert.Equal(0.5, Perturbation.Area(new[] { 1.0, 0.5, 0.0 }), 12);
        // T = 4, constant 3: area 3
        Assert.Equal(3.0, Perturbation.Area(new[] { 3.0, 3, 3, 3, 3 }), 12);
        // T = 1: the mean of the two ends
        Assert.Equal(1.5, Perturbation.Area(new[] { 2.0, 1.0 }), 12);
    }

    [Fact]
    public void AbpcIsTheAreaBetweenTheCurvesOverTheUnperturbedValue()
    {
        // T = 3: area(MoRF) = (1.5 + 0.75 + 0.25) / 3 = 2.5 / 3, area(LeRF) = (2 + 1.75 + 0.75) / 3 = 4.5 / 3;
        // ABPC = (4.5 / 3 - 2.5 / 3) / 2 = 1 / 3.
        var morf = new[] { 2.0, 1.0, 0.5, 0.0 };
        var lerf = new[] { 2.0, 2.0, 1.5, 0.0 };
        Assert.Equal(1.0 / 3, Perturbation.Abpc(morf, lerf), 12);
        var curves = new PerturbationCurves(morf, lerf);
        Assert.Equal(2.5 / 3 / 2, curves.AreaMorf, 12);
        Assert.Equal(4.5 / 3 / 2, curves.AreaLerf, 12);
        Assert.Equal(1.0 / 3, curves.Abpc, 12);
        // Swapped orders: the opposite sign.
        Assert.Equal(-1.0 / 3, Perturbation.Abpc(lerf, morf), 12);
    }

    [Fact]
    public void AbpcRejectsBadCurves()
    {
        Assert.Throws<ArgumentException>(() => Perturbation.Abpc(new[] { 1.0, 0 }, new[] { 1.0, 0, 0 }));
        Assert.Throws<ArgumentException>(() => Perturbation.Abpc(new[] { 0.0, 1 }, new[] { 0.0, 1 }));
        Assert.Throws<ArgumentException>(() => Perturbation.Area(new[] { 1.0 }));
    }

    [Fact]
    public void OrdersBreakTiesByPosition()
    {
        var relevance = new[] { 0.5f, 2f, 0.5f, -1f };
        Assert.Equal(new[] { 1, 0, 2, 3 }, Perturbation.MostRelevantFirst(relevance));
        Assert.Equal(new[] { 3, 0, 2, 1 }, Perturbation.LeastRelevantFirst(relevance));
        Assert.Equal(2, Evaluations.Rank(relevance, 0));
        Assert.Equal(1, Evaluations.Rank(relevance, 1));
        Assert.Equal(4, Evaluations.Rank(relevance, 3));
    }

    [Fact]
    public void CurvesZeroTheEmbeddingsOfRemovedTokens()
    {
        // f(x) = sum W x with per-token contributions 3, 1, -2, 4 (x = 1, W summed over hidden = those numbers).
        var x = new float[,] { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } };
        var w = new float[,] { { 1, 2 }, { 0.5f, 0.5f }, { -1, -1 }, { 3, 1 } };
        using var input = new LinearInput(x, w);
        var relevance = input.LrpRelevance(LrpMethod.AttnLrp);
        Assert.Equal(new[] { 3f, 1f, -2f, 4f }, relevance);
        var curves = Perturbation.Curves(input, relevance, batch: 3);
        // MoRF removes 4, 3, 1, -2: 6, 2, -1, -2, 0. LeRF removes -2, 1, 3, 4: 6, 8, 7, 4, 0.
        Assert.Equal(new[] { 6.0, 2, -1, -2, 0 }, curves.Morf.Select(v => Math.Round(v, 5)));
        Assert.Equal(new[] { 6.0, 8, 7, 4, 0 }, curves.Lerf.Select(v => Math.Round(v, 5)));
        double expected = (Perturbation.Area(new[] { 6.0, 8, 7, 4, 0 }) - Perturbation.Area(new[] { 6.0, 2, -1, -2, 0 })) / 6;
        Assert.Equal(expected, curves.Abpc, 6);
    }

    [Fact]
    public void ResampleNormalisesAndInterpolates()
    {
        var r = Perturbation.Resample(new[] { 2.0, 1.0, 0.0 }, points: 5);
        Assert.Equal(new[] { 1.0, 0.75, 0.5, 0.25, 0.0 }, r.Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void RandomBaselineIsSeededPerExample()
    {
        var a = Attribution.RandomRelevance(6, Attribution.Mix(1, 0));
        var b = Attribution.RandomRelevance(6, Attribution.Mix(1, 0));
        var c = Attribution.RandomRelevance(6, Attribution.Mix(1, 1));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.InRange(v, 0f, 1f));
    }
}
