using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>[CpLrp] on the class: no relevance through the attention weights even under AttnLRP.</summary>
[LrpModule, CpLrp]
public partial class CpAttention : nn.Module<Tensor, Tensor>
{
    internal readonly Linear qkv, proj;
    internal readonly long heads, headDim;

    public CpAttention(long d, long heads) : base(nameof(CpAttention))
    {
        this.heads = heads;
        headDim = d / heads;
        qkv = nn.Linear(d, 3 * d);
        proj = nn.Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long B = x.shape[0], T = x.shape[1];
        var parts = qkv.call(x).view(B, T, 3, heads, headDim).permute(2, 0, 3, 1, 4).chunk(3, 0);
        var q = parts[0].squeeze(0);
        var k = parts[1].squeeze(0);
        var v = parts[2].squeeze(0);
        var attn = torch.softmax(q.matmul(k.transpose(-2, -1)) * (1.0 / Math.Sqrt(headDim)), -1);
        attn = nn.functional.dropout(attn, 0.1, training: false);
        var y = attn.matmul(v).permute(0, 2, 1, 3).reshape(B, T, heads * headDim);
        return proj.call(y);
    }
}
