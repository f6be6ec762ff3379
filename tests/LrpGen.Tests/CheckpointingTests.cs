using System.Collections.Generic;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>The memory-saving mode recomputes each block in the backward: the same relevance and latents, fewer
/// tensors held between forward and backward, nothing leaked.</summary>
public class CheckpointingTests
{
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void SameRelevanceFewerTensorsHeld(LrpMethod method)
    {
        torch.manual_seed(51);
        var m = new TinyLm(20, 16, 3).to(ScalarType.Float64);
        var ids = torch.tensor(new long[,] { { 3, 1, 4, 1, 5, 9 } });
        var w = torch.randn(1, 20, ScalarType.Float64);
        var latents = new[] { "attentions.*", "mlps.1.fc2" };

        System.GC.Collect();
        System.GC.WaitForPendingFinalizers();
        long baseline = Tensor.TotalCount;
        using var full = m.LrpForward(ids, new LrpOptions { Method = method, Latents = latents });
        long heldFull = Tensor.TotalCount - baseline;
        using var saving = m.LrpForward(ids, new LrpOptions { Method = method, Latents = latents, Checkpointing = true });
        long heldSaving = Tensor.TotalCount - baseline - heldFull;
        Assert.True(heldSaving < heldFull, $"checkpointing holds {heldSaving} tensors, the full pass {heldFull}");

        var a = full.Explain(w);
        var b = saving.Explain(w);
        Close.Relative(b.Inputs[0], a.Inputs[0], 1e-12, "token relevance");
        Assert.Equal(new SortedSet<string>(a.Latents.Keys), new SortedSet<string>(b.Latents.Keys));
        foreach (var key in a.Latents.Keys) Close.Relative(b.Latents[key], a.Latents[key], 1e-12, key);

        ScenarioHarness.AssertNoLeaks(o => { o.Checkpointing = true; o.Latents = latents; return m.LrpForward(ids, o); }, method, "TinyLm checkpointed");
    }
}
