using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Rotary position embedding with constant cos/sin tables (inlined helper without a rule: linear ops).</summary>
[LrpModule]
public partial class RopeAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj;
    internal readonly long heads, headDim;

    public RopeAttention(long d, long heads) : base(nameof(RopeAttention))
    {
        this.heads = heads;
        headDim = d / heads;
        q_proj = nn.Linear(d, d, hasBias: false);
        k_proj = nn.Linear(d, d, hasBias: false);
        v_proj = nn.Linear(d, d, hasBias: false);
        RegisterComponents();
    }

    private Tensor RotateHalf(Tensor x)
    {
        long half = headDim / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return torch.cat(new[] { -x2, x1 }, -1);
    }

    private Tensor ApplyRope(Tensor x, Tensor cos, Tensor sin) => x * cos + RotateHalf(x) * sin;

    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = ApplyRope(q_proj.call(x).view(B, T, heads, headDim).transpose(1, 2), cos, sin);
        var k = ApplyRope(k_proj.call(x).view(B, T, heads, headDim).transpose(1, 2), cos, sin);
        var v = v_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var probs = nn.functional.softmax(q.matmul(k.transpose(-1, -2)) / Math.Sqrt(headDim), -1);
        return probs.matmul(v).transpose(1, 2).flatten(2);
    }
}
