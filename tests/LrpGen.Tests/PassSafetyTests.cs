using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>A pass used from two threads gives the single-thread results; an input changed in place after the
/// forward is an error at the next backward, not a silently different explanation.</summary>
public class PassSafetyTests
{
    private const ScalarType F64 = ScalarType.Float64;
    private static readonly string[] Latents = { "blocks.*", "**.fc2" };

    private static (BlockStack Model, Tensor X) Setup()
    {
        torch.manual_seed(41);
        return (new BlockStack(8, 12, 3).to(F64), torch.randn(2, 4, 8, F64));
    }

    [Fact]
    public void ExplainFromTwoThreadsGivesTheSingleThreadResults()
    {
        var (m, x) = Setup();
        using var pass = m.LrpForward(x, new LrpOptions { Latents = Latents });
        torch.manual_seed(5);
        var weights = new[] { torch.randn(2, 4, 8, F64), torch.randn(2, 4, 8, F64) };
        var expected = weights.Select(w => pass.Explain(w)).ToArray();
        Assert.Equal(6, expected[0].Latents.Count);

        var failures = new List<Exception>();
        var mismatches = new List<string>();
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                for (int k = 0; k < 20; k++)
                {
                    var got = pass.Explain(weights[t]);
                    if (!Same(got.Inputs[0], expected[t].Inputs[0]))
                        lock (mismatches) mismatches.Add($"thread {t}, iteration {k}: input relevance");
                    foreach (var (point, value) in expected[t].Latents)
                        if (!got.Latents.TryGetValue(point, out var latent) || !Same(latent, value))
                            lock (mismatches) mismatches.Add($"thread {t}, iteration {k}: latent {point}");
                    foreach (var tensor in got.Inputs.Concat(got.Latents.Values)) tensor.Dispose();
                }
            }
            catch (Exception e)
            {
                lock (failures) failures.Add(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);
        Assert.Empty(mismatches);
    }

    private static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var equal = a.eq(b).all();
        return equal.item<bool>();
    }

    [Fact]
    public void AnInputChangedInPlaceByATorchOperationIsAnError()
    {
        var (m, x) = Setup();
        using var pass = m.LrpForward(x);
        using var weights = torch.ones_like(pass.Output);
        foreach (var r in pass.Backward(weights)) r.Dispose();
        x.add_(1.0);
        var e = Assert.Throws<InvalidOperationException>(() => pass.Backward(weights));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("changed in place after LrpForward", e.Message);
        Assert.Throws<InvalidOperationException>(() => pass.Explain(weights));
    }

    [Fact]
    public void AnInputChangedThroughItsDataAccessorIsAnError()
    {
        // Writes through data<T>() bypass LibTorch (no version bump): the snapshot sees them, a mere swap included.
        var (m, x) = Setup();
        using var pass = m.LrpForward(x);
        using var weights = torch.ones_like(pass.Output);
        long? version = TensorVersion.Of(x);
        var data = x.data<double>();
        (data[0, 0, 0], data[0, 0, 1]) = (data[0, 0, 1], data[0, 0, 0]);
        Assert.Equal(version, TensorVersion.Of(x));
        var e = Assert.Throws<InvalidOperationException>(() => pass.Backward(weights));
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void ChangedTokenIdsAreAnErrorToo()
    {
        torch.manual_seed(3);
        var m = new TinyLm(11, 8, 2).to(F64);
        var ids = torch.tensor(new long[,] { { 1, 4, 7, 2 } });
        using var pass = m.LrpForward(ids);
        using var weights = torch.ones_like(pass.Output);
        ids[0, 2] = torch.tensor(3L);
        var e = Assert.Throws<InvalidOperationException>(() => pass.Backward(weights));
        Assert.Contains("'ids'", e.Message);
    }

    [Fact]
    public void UnchangedInputsAreNotFlagged()
    {
        // Disposing one's own handle, reading, making a new tensor from the input, and NaN values are no change.
        var (m, x) = Setup();
        x[0, 0, 0] = torch.tensor(double.NaN, F64);
        using var pass = m.LrpForward(x);
        using var weights = torch.ones_like(pass.Output);
        using (var y = x.mul(2.0)) { }
        _ = x.sum().item<double>();
        x.Dispose();
        foreach (var r in pass.Backward(weights)) r.Dispose();
        foreach (var r in pass.Backward(weights)) r.Dispose();
    }

    [Fact]
    public void TheVersionCounterIsReachable()
    {
        // The cheap check rests on LibTorch's exported _version operator; this tells when a LibTorch drops it.
        using var t = torch.zeros(3);
        long? before = TensorVersion.Of(t);
        Assert.NotNull(before);
        t.add_(1);
        using (var view = t.narrow(0, 1, 1)) view.mul_(2);
        Assert.Equal(before + 2, TensorVersion.Of(t));
    }
}
