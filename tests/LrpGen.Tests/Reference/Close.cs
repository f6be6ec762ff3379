using System;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests.Reference;

public static class Close
{
    /// <summary>max |actual - expected| &lt;= tolerance * max |expected| (plus a floor for all-zero references).</summary>
    public static void Relative(Tensor actual, Tensor expected, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var a = actual.to(ScalarType.Float64);
        using var e = expected.to(ScalarType.Float64);
        double scale = e.abs().max().item<double>();
        double diff = a.sub(e).abs().max().item<double>();
        Assert.False(double.IsNaN(diff), $"{what}: NaN in the result");
        Assert.True(diff <= tolerance * Math.Max(scale, 1e-12),
            $"{what}: max |diff| = {diff:E3} exceeds {tolerance:E1} x max |expected| = {tolerance * scale:E3}");
    }
}
