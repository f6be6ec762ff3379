using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>scaled_dot_product_attention with a boolean padding mask, and a causal one: expanded into its rules.</summary>
[LrpModule]
public partial class SdpaAttention : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear qkv;
    internal readonly long heads, headDim;

    public SdpaAttention(long d, long heads) : base(nameof(SdpaAttention))
    {
        this.heads = heads;
        headDim = d / heads;
        qkv = nn.Linear(d, 3 * d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor keep)
    {
        long B = x.shape[0], T = x.shape[1];
        var parts = qkv.call(x).view(B, T, 3, heads, headDim).transpose(1, 3).chunk(3, 2);
        var q = parts[0].squeeze(2);
        var k = parts[1].squeeze(2);
        var v = parts[2].squeeze(2);
        var padded = nn.functional.scaled_dot_product_attention(q, k, v, keep);
        var causal = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        return (padded + causal).transpose(1, 2).flatten(2);
    }
}
