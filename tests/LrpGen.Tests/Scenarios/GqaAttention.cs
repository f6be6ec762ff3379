using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Grouped-query attention (repeat_interleave of k/v heads) with a causal mask built in forward.</summary>
[LrpModule]
public partial class GqaAttention : nn.Module<Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj, o_proj;
    internal readonly long heads, kvHeads, headDim;

    public GqaAttention(long d, long heads, long kvHeads) : base(nameof(GqaAttention))
    {
        this.heads = heads;
        this.kvHeads = kvHeads;
        headDim = d / heads;
        q_proj = nn.Linear(d, heads * headDim, hasBias: false);
        k_proj = nn.Linear(d, kvHeads * headDim, hasBias: false);
        v_proj = nn.Linear(d, kvHeads * headDim, hasBias: false);
        o_proj = nn.Linear(heads * headDim, d, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long B = x.shape[0], T = x.shape[1];
        long groups = heads / kvHeads;
        var q = q_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var k = k_proj.call(x).view(B, T, kvHeads, headDim).transpose(1, 2).repeat_interleave(groups, dim: 1);
        var v = v_proj.call(x).view(B, T, kvHeads, headDim).transpose(1, 2).repeat_interleave(groups, dim: 1);
        var causal = torch.ones(T, T, dtype: x.dtype).triu(1) * -1e9;
        var scores = q.matmul(k.transpose(2, 3)) * (1.0 / Math.Sqrt(headDim)) + causal;
        var attn = scores.softmax(-1).matmul(v);
        return o_proj.call(attn.transpose(1, 2).reshape(B, T, -1));
    }
}
