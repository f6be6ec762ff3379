using System;
using LrpGen.Rules;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>The structural adjoints under the seed dimension, each against autograd of its forward op, seed by seed:
/// also the dims, shapes and index forms no scenario reaches (negative and positive dims, reductions over all dims,
/// split with parts that get no gradient, index_select, an ellipsis index).</summary>
public class SeedAdjointTests
{
    private const ScalarType F64 = ScalarType.Float64;

    /// <summary>adjoint(g, x) for g of shape [3, ...forward(x).shape], row s against d/dx sum(g[s] * forward(x)).</summary>
    private static void AssertAdjoint(string what, long[] xShape, Func<Tensor, Tensor> forward, Func<Tensor, Tensor, Tensor> adjoint)
    {
        torch.manual_seed(5);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(xShape, F64).requires_grad_(true);
        Tensor y;
        using (torch.enable_grad()) y = forward(x);
        var g = torch.randn(SeedRows.Seeded(3, y.shape), F64);
        var actual = adjoint(g, x.detach());
        Assert.Equal(SeedRows.Seeded(3, xShape), actual.shape);
        for (int s = 0; s < 3; s++)
        {
            Tensor expected;
            using (torch.enable_grad()) expected = torch.autograd.grad(new[] { y }, new[] { x }, new[] { g[s] }, retain_graph: true)[0];
            Close.Relative(actual[s], expected, 1e-12, $"{what}, seed {s}");
        }
    }

    [Fact]
    public void ShapesAndDims()
    {
        AssertAdjoint("reshape", new long[] { 2, 3, 4 }, x => x.reshape(6, 4), (g, x) => Adjoint.Reshape(g, x.shape));
        AssertAdjoint("transpose(0, -1)", new long[] { 2, 3, 4 }, x => x.transpose(0, -1), (g, x) => Adjoint.Transpose(g, 0, -1));
        AssertAdjoint("permute(2, -3, 1)", new long[] { 2, 3, 4 }, x => x.permute(2, -3, 1), (g, x) => Adjoint.Permute(g, new long[] { 2, -3, 1 }));
        AssertAdjoint("expand", new long[] { 3, 1 }, x => x.expand(2, 3, 4), (g, x) => Adjoint.Expand(g, x.shape));
        AssertAdjoint("repeat_interleave(2, 0)", new long[] { 2, 3 }, x => x.repeat_interleave(2, 0), (g, x) => Adjoint.RepeatInterleave(g, 2, 0, x.shape));
        AssertAdjoint("repeat_interleave(3, -1)", new long[] { 2, 3 }, x => x.repeat_interleave(3, -1), (g, x) => Adjoint.RepeatInterleave(g, 3, -1, x.shape));
    }

    [Fact]
    public void Reductions()
    {
        AssertAdjoint("sum()", new long[] { 2, 3 }, x => x.sum(), (g, x) => Adjoint.Sum(g, null, false, x.shape));
        AssertAdjoint("sum(0, 2)", new long[] { 2, 3, 4 }, x => x.sum(new long[] { 0, 2 }), (g, x) => Adjoint.Sum(g, new long[] { 0, 2 }, false, x.shape));
        AssertAdjoint("sum(-1, keepdim)", new long[] { 2, 3 }, x => x.sum(new long[] { -1 }, keepdim: true), (g, x) => Adjoint.Sum(g, new long[] { -1 }, true, x.shape));
        AssertAdjoint("mean(1)", new long[] { 2, 3, 4 }, x => x.mean(new long[] { 1 }), (g, x) => Adjoint.Mean(g, new long[] { 1 }, false, x.shape));
        AssertAdjoint("mean()", new long[] { 2, 3 }, x => x.mean(), (g, x) => Adjoint.Mean(g, null, false, x.shape));
        AssertAdjoint("a + b, b broadcast", new long[] { 3, 1 }, x => x + torch.ones(2, 3, 4, F64), (g, x) => Adjoint.AddOperand(g, x.shape, negate: true).neg());
    }

    [Fact]
    public void Selections()
    {
        var index = torch.tensor(new long[] { 2, 0, 2 });
        AssertAdjoint("index_select(1)", new long[] { 2, 3, 4 }, x => x.index_select(1, index), (g, x) => Adjoint.IndexSelect(g, 1, index, x.shape));
        AssertAdjoint("index_select(-1)", new long[] { 2, 4 }, x => x.index_select(-1, index), (g, x) => Adjoint.IndexSelect(g, -1, index, x.shape));
        AssertAdjoint("narrow(1)", new long[] { 2, 5 }, x => x.narrow(1, 1, 3), (g, x) => Adjoint.Narrow(g, 1, 1, 3, x.shape));
        AssertAdjoint("narrow(-2)", new long[] { 4, 2 }, x => x.narrow(-2, 1, 2), (g, x) => Adjoint.Narrow(g, -2, 1, 2, x.shape));
        var indices = new[] { TensorIndex.Ellipsis, TensorIndex.Slice(1, 3), TensorIndex.Single(0) };
        AssertAdjoint("[..., 1:3, 0]", new long[] { 2, 4, 3 }, x => x[indices], (g, x) => Adjoint.Index(g, indices, x.shape));
        AssertAdjoint("select(0)", new long[] { 2, 3 }, x => x.select(0, 1), (g, x) => SelectionAdjoint.Select(g, 0, 1, x.shape));
        AssertAdjoint("select(-1)", new long[] { 2, 3 }, x => x.select(-1, 2), (g, x) => SelectionAdjoint.Select(g, -1, 2, x.shape));
        AssertAdjoint("max(1).values", new long[] { 2, 5 }, x => x.max(1).values, (g, x) =>
        {
            var (values, picked) = x.max(1);
            using (values) using (picked) return SelectionAdjoint.Gathered(g, picked, 1, x.shape);
        });
        AssertAdjoint("cummax(-1).values", new long[] { 2, 5 }, x => x.cummax(-1).values, (g, x) =>
        {
            var (values, picked) = x.cummax(-1);
            using (values) using (picked) return SelectionAdjoint.Gathered(g, picked, -1, x.shape);
        });
        AssertAdjoint("where", new long[] { 2, 3 }, x => torch.where(x.gt(0).detach(), x, torch.zeros(1, F64)), (g, x) =>
        {
            using var condition = x.gt(0);
            return SelectionAdjoint.WhereBranch(g, condition, x.shape, whereTrue: true);
        });
    }

    /// <summary>The seed dimension folded into a matmul's rows or columns gives broadcasting's product.</summary>
    [Fact]
    public void FoldedMatmuls()
    {
        torch.manual_seed(6);
        var weights = torch.randn(2, 2, 5, 6, F64);
        var rowGradient = torch.randn(new long[] { 3, 2, 2, 1, 5 }, F64);
        Close.Relative(Seeds.MatmulLeft(rowGradient, weights), rowGradient.matmul(weights), 1e-12, "S folded into M");
        var columnGradient = torch.randn(new long[] { 3, 2, 2, 5, 1 }, F64);
        var attention = weights.transpose(-2, -1);
        Close.Relative(Seeds.MatmulRight(attention, columnGradient), attention.matmul(columnGradient), 1e-12, "S folded into K");
        var wide = torch.randn(new long[] { 3, 2, 2, 4, 5 }, F64);
        Close.Relative(Seeds.MatmulLeft(wide, weights), wide.matmul(weights), 0, "no fold when the gradient is larger");
    }

    [Fact]
    public void PartsOfTensors()
    {
        AssertAdjoint("cat part 1 of 2 along -1", new long[] { 2, 3 }, x => torch.cat(new[] { torch.ones(2, 2, F64), x }, -1),
            (g, x) => Adjoint.CatPart(g, -1, new long[] { 2, 3 }, 1));
        AssertAdjoint("cat part 0 of 2 along 0", new long[] { 2, 3 }, x => torch.cat(new[] { x, torch.ones(1, 3, F64) }, 0),
            (g, x) => Adjoint.CatPart(g, 0, new long[] { 2, 1 }, 0));
        AssertAdjoint("stack part 1 along 1", new long[] { 2, 3 }, x => torch.stack(new[] { torch.ones(2, 3, F64), x }, 1),
            (g, x) => SelectionAdjoint.StackPart(g, 1, 1));
        AssertAdjoint("stack part 0 along -1", new long[] { 2, 3 }, x => torch.stack(new[] { x, torch.ones(2, 3, F64) }, -1),
            (g, x) => SelectionAdjoint.StackPart(g, -1, 0));
        // split(1) into [2, 1, 2]: only the last part gets a gradient; the others are zeros.
        AssertAdjoint("split part 2 of 3", new long[] { 3, 5 }, x => x.split(new long[] { 2, 1, 2 }, 1)[2],
            (g, x) => Adjoint.Split(new Tensor?[] { null, null, g }, 1, new long[] { 2, 1, 2 }, x.shape));
        AssertAdjoint("split part 0 of 2 along -2", new long[] { 4, 2 }, x => x.split(new long[] { 1, 3 }, -2)[0],
            (g, x) => Adjoint.Split(new Tensor?[] { g, null }, -2, new long[] { 1, 3 }, x.shape));
    }
}
