using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Multi-head self-attention with an additive mask that is a constant input.</summary>
[LrpModule]
public partial class MaskedAttention : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj, o_proj;
    internal readonly long heads, headDim;

    public MaskedAttention(long d, long heads) : base(nameof(MaskedAttention))
    {
        this.heads = heads;
        headDim = d / heads;
        q_proj = nn.Linear(d, d);
        k_proj = nn.Linear(d, d);
        v_proj = nn.Linear(d, d);
        o_proj = nn.Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = q_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var k = k_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var v = v_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var scores = torch.matmul(q, k.transpose(-2, -1)) / Math.Sqrt(headDim);
        var weights = torch.softmax(scores + mask, -1);
        var context = torch.matmul(weights, v).transpose(1, 2).contiguous().view(B, T, heads * headDim);
        return o_proj.call(context);
    }
}
