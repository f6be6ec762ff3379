using System;
using System.Linq;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>Runs a generated pass and its autograd reference on the same float64 inputs and compares.</summary>
public static class ScenarioHarness
{
    public const double Tolerance = 1e-6;

    public const ScalarType F64 = ScalarType.Float64;

    /// <summary>Inputs of the scenarios: float64, from the seed the test set.</summary>
    public static Tensor Randn(params long[] shape) => torch.randn(shape, F64);

    /// <summary>The weights of the explained quantity: float64, from a fixed seed.</summary>
    public static Tensor Weights(params long[] shape)
    {
        torch.manual_seed(7);
        return torch.randn(shape, F64);
    }

    public static readonly LrpMethod[] Methods = { LrpMethod.AttnLrp, LrpMethod.CpLrp, LrpMethod.Gradient };

    /// <summary>Checks output and relevance of every input against the reference, for one method, and the same
    /// pass with S = 1, 3 and 7 seeds in one backward against separate backwards (<see cref="SeedRows"/>).</summary>
    public static void Check(
        Func<LrpOptions, LrpPass> generated,
        Func<Tensor> plainForward,
        Func<RuleInjection, Tensor[]> reference,
        LrpMethod method,
        string scenario,
        long seed = 7,
        double forwardTolerance = 1e-12)
    {
        SeedCoverage.StopWhenRecording(generated);
        AssertNoLeaks(generated, method, scenario);
        using var scope = torch.NewDisposeScope();
        using var pass = generated(new LrpOptions { Method = method });
        using (var plain = plainForward())
            Close.Relative(pass.Output, plain, forwardTolerance, $"{scenario} forward output");
        torch.manual_seed(seed);
        var weights = torch.randn(pass.Output.shape, ScalarType.Float64);
        var relevance = pass.Backward(weights);
        var expected = reference(new RuleInjection(method)) ;
        Assert.Equal(expected.Length, relevance.Count);
        for (int i = 0; i < expected.Length; i++)
            Close.Relative(relevance[i], expected[i], Tolerance, $"{scenario} [{method}] relevance of input {i}");
        // A second backward on the same pass (another target) gives the same numbers.
        var again = pass.Backward(weights);
        for (int i = 0; i < expected.Length; i++)
            Close.Relative(again[i], relevance[i], 0, $"{scenario} [{method}] second backward, input {i}");
        // Many seeds in one backward: row s equals the backward of seed s (every scenario, every method).
        SeedRows.Check(generated, method, scenario);
    }

    /// <summary>Deterministic disposal: after a pass, two backwards and disposal of everything handed out,
    /// exactly as many tensors are alive as before (TorchSharp counts every live tensor handle).</summary>
    public static void AssertNoLeaks(Func<LrpOptions, LrpPass> generated, LrpMethod method, string scenario)
    {
        // Finalise garbage left by earlier tests first, so the count moves only with this pass.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = Tensor.TotalCount;
        using (var pass = generated(new LrpOptions { Method = method }))
        {
            using var weights = torch.ones_like(pass.Output);
            for (int k = 0; k < 2; k++)
                foreach (var r in pass.Backward(weights)) r.Dispose();
        }
        Assert.True(Tensor.TotalCount == before, $"{scenario} [{method}]: {Tensor.TotalCount - before} tensors leaked by the generated pass");
    }

    public static Tensor[] Ref(Tensor x, Tensor weights, Func<Tensor, Tensor> forward) =>
        new[] { RuleInjection.InputTimesGradient(x, forward, weights) };
}
