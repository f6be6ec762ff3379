using System;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>The Gamma rule against an independent float64 reference: the explicit LRP sums, written out per
/// input and output, with the convolution unfolded into a matrix.</summary>
public class GammaRuleTests
{
    /// <summary>R_in for y = W x + b with the generalised Gamma rule, by explicit sums (no tensor algebra).</summary>
    internal static double[] ExplicitGamma(double[,] w, double[] b, double[] x, double[] rOut, double gamma)
    {
        int outs = w.GetLength(0), ins = w.GetLength(1);
        var r = new double[ins];
        for (int j = 0; j < outs; j++)
        {
            double y = b[j];
            for (int i = 0; i < ins; i++) y += w[j, i] * x[i];
            if (y == 0) continue;
            bool positive = y > 0;
            var contrib = new double[ins];
            double z = positive ? b[j] + gamma * Math.Max(b[j], 0) : b[j] + gamma * Math.Min(b[j], 0);
            for (int i = 0; i < ins; i++)
            {
                double wp = w[j, i] + gamma * Math.Max(w[j, i], 0), wn = w[j, i] + gamma * Math.Min(w[j, i], 0);
                double xp = Math.Max(x[i], 0), xn = Math.Min(x[i], 0);
                contrib[i] = positive ? wp * xp + wn * xn : wn * xp + wp * xn;
                z += contrib[i];
            }
            double stab = z + 1e-6 * (z >= 0 ? 1 : -1);
            for (int i = 0; i < ins; i++) r[i] += contrib[i] / stab * rOut[j];
        }
        return r;
    }

    [Fact]
    public void LinearAndConvMatchExplicitSums()
    {
        torch.manual_seed(41);
        var m = new GammaNet().to(ScalarType.Float64);
        var x = torch.randn(1, 2, 4, 4, ScalarType.Float64);
        var w = torch.randn(1, 5, ScalarType.Float64);
        using var pass = m.LrpForward(x);
        var relevance = pass.Backward(w)[0];

        // Layer 2 (fc): R at the fc output is w * y.
        using var h = m.conv.call(x).flatten(1);
        using var y = m.fc.call(h);
        var rOut = (y * w)[0].data<double>().ToArray();
        var rHidden = ExplicitGamma(ToMatrix(m.fc.weight!), m.fc.bias!.data<double>().ToArray(), h[0].data<double>().ToArray(), rOut, 0.1);

        // Layer 1 (conv): unfold into a [48, 32] matrix acting on the flattened input; bias per output position.
        var unfolded = UnfoldConv(m.conv, 2, 4, 4);
        var bias = new double[48];
        var cb = m.conv.bias!.data<double>().ToArray();
        for (int o = 0; o < 48; o++) bias[o] = cb[o / 16];
        var rInput = ExplicitGamma(unfolded, bias, x.flatten().data<double>().ToArray(), rHidden, 0.25);

        using var expected = torch.tensor(rInput, ScalarType.Float64).view(1, 2, 4, 4);
        Close.Relative(relevance, expected, 1e-6, "gamma relevance");
    }

    [Fact]
    public void GammaOverrideReplacesTheCompiledValue()
    {
        torch.manual_seed(42);
        var m = new GammaNet().to(ScalarType.Float64);
        var x = torch.randn(1, 2, 4, 4, ScalarType.Float64);
        var w = torch.randn(1, 5, ScalarType.Float64);
        using var compiled = m.LrpForward(x);
        using var overridden = m.LrpForward(x, new LrpOptions
        {
            GammaOverrides = new System.Collections.Generic.Dictionary<Type, double> { [typeof(TorchSharp.Modules.Linear)] = 0.1 },
        });
        Close.Relative(overridden.Backward(w)[0], compiled.Backward(w)[0], 1e-12, "override equal to the compiled gamma");
        using var changed = m.LrpForward(x, new LrpOptions
        {
            GammaOverrides = new System.Collections.Generic.Dictionary<Type, double> { [typeof(TorchSharp.Modules.Linear)] = 2.0 },
        });
        Assert.True(changed.Backward(w)[0].sub(compiled.Backward(w)[0]).abs().max().item<double>() > 1e-6, "the override changed nothing");
        Assert.Throws<ArgumentException>(() => { m.LrpForward(x, new LrpOptions { GammaOverrides = new System.Collections.Generic.Dictionary<Type, double> { [typeof(TorchSharp.Modules.Linear)] = -1 } }); });
    }

    private static double[,] ToMatrix(Tensor t)
    {
        var rows = (int)t.shape[0];
        var cols = (int)t.shape[1];
        var data = t.data<double>().ToArray();
        var m = new double[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) m[r, c] = data[r * cols + c];
        return m;
    }

    /// <summary>The convolution as a matrix: column i is the conv (without bias) of the i-th unit input.</summary>
    private static double[,] UnfoldConv(TorchSharp.Modules.Conv2d conv, int channels, int height, int width)
    {
        int ins = channels * height * width;
        double[,]? m = null;
        for (int i = 0; i < ins; i++)
        {
            using var unit = torch.zeros(ins, ScalarType.Float64);
            unit[i] = torch.tensor(1.0, ScalarType.Float64);
            using var image = unit.view(1, channels, height, width);
            using var response = torch.nn.functional.conv2d(image, conv.weight!, null, conv.stride, conv.padding, conv.dilation, conv.groups).flatten();
            var column = response.data<double>().ToArray();
            m ??= new double[column.Length, ins];
            for (int o = 0; o < column.Length; o++) m[o, i] = column[o];
        }
        return m!;
    }
}

public class GammaScenarioTests
{
    /// <summary>Under the gradient baseline the Gamma layers are plain; every method leaks nothing.</summary>
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.Gradient)]
    public void GradientBaselineAndDisposal(LrpMethod method)
    {
        torch.manual_seed(43);
        var m = new GammaNet().to(ScalarType.Float64);
        var x = torch.randn(2, 2, 4, 4, ScalarType.Float64);
        var w = torch.randn(2, 5, ScalarType.Float64);
        ScenarioHarness.AssertNoLeaks(o => m.LrpForward(x, o), method, nameof(GammaNet));
        if (method != LrpMethod.Gradient) return;
        using var pass = m.LrpForward(x, new LrpOptions { Method = method });
        Close.Relative(pass.Backward(w)[0], RuleInjection.InputTimesGradient(x, v => m.call(v), w), 1e-6, "gamma layers under the gradient baseline");
    }
}
