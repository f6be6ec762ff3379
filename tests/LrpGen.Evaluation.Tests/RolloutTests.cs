using System;
using System.Linq;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Evaluation.Tests;

public class RolloutTests
{
    [Fact]
    public void RolloutOfAHandBuiltStack()
    {
        // Layer 1, two heads whose mean is A1 = [[1, 0], [0.5, 0.5]]; with the residual, (A1 + I) / 2 = [[1, 0], [0.25, 0.75]].
        using var layer1 = torch.tensor(new float[] { 1, 0, 1, 0, 1, 0, 0, 1 }).view(2, 2, 2);
        // Layer 2, one head A2 = [[1, 0], [1, 0]]: (A2 + I) / 2 = [[1, 0], [0.5, 0.5]].
        using var layer2 = torch.tensor(new float[] { 1, 0, 1, 0 }).view(1, 2, 2);
        // R = [[1, 0], [0.5, 0.5]] [[1, 0], [0.25, 0.75]] = [[1, 0], [0.625, 0.375]].
        using var matrix = AttentionRollout.Matrix(new[] { layer1, layer2 });
        var r = matrix.data<double>().ToArray();
        Assert.Equal(new[] { 1.0, 0, 0.625, 0.375 }, r.Select(v => Math.Round(v, 12)));
        // Read out at the last position (a causal LM), and as a mean over positions (a mean-pooled embedding).
        Assert.Equal(new[] { 0.625f, 0.375f }, AttentionRollout.Relevance(new[] { layer1, layer2 }, new[] { 0f, 1f }));
        Assert.Equal(new[] { 0.8125f, 0.1875f }, AttentionRollout.Relevance(new[] { layer1, layer2 }, new[] { 0.5f, 0.5f }));
    }

    [Fact]
    public void RolloutThroughTheApiOfAnInput()
    {
        using var input = new LinearInput(new float[,] { { 1 }, { 1 } }, new float[,] { { 1 }, { 1 } });
        input.Attention.Add(torch.tensor(new float[] { 1, 0, 0.5f, 0.5f }).view(1, 2, 2));
        // One layer: (A + I) / 2 = [[1, 0], [0.25, 0.75]], read out as the mean of the rows: [0.625, 0.375].
        var relevance = Attribution.Explain(input, AttributionMethod.AttentionRollout);
        Assert.Equal(new[] { 0.625f, 0.375f }, relevance);
    }

    [Fact]
    public void RolloutRejectsBadShapes()
    {
        using var bad = torch.ones(2, 3);
        Assert.Throws<ArgumentException>(() => AttentionRollout.Matrix(new[] { bad }));
        Assert.Throws<ArgumentException>(() => AttentionRollout.Matrix(Array.Empty<Tensor>()));
        using var ok = torch.eye(2);
        Assert.Throws<ArgumentException>(() => AttentionRollout.Relevance(new[] { ok }, new[] { 1f }));
    }
}
