using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Two relevance inputs: queries from x, keys and values from a context, with a padding mask.</summary>
[LrpModule]
public partial class CrossAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, kv_proj, out_proj;
    internal readonly LayerNorm norm;
    internal readonly long d;

    public CrossAttention(long d) : base(nameof(CrossAttention))
    {
        this.d = d;
        q_proj = nn.Linear(d, d);
        kv_proj = nn.Linear(d, 2 * d);
        out_proj = nn.Linear(d, d);
        norm = nn.LayerNorm(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context, [NoRelevance] Tensor padding)
    {
        var q = q_proj.call(norm.call(x));
        var kv = kv_proj.call(context);
        var k = kv.narrow(-1, 0, d);
        var v = kv[TensorIndex.Ellipsis, TensorIndex.Slice(d, 2 * d)];
        var scores = q.matmul(k.transpose(1, 2)) / Math.Sqrt(d);
        scores = scores.masked_fill(padding, -1e9);
        var mixed = scores.softmax(-1).matmul(v);
        return x + out_proj.call(mixed);
    }
}
