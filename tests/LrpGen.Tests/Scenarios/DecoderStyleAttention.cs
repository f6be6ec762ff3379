using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Attention as the decoders write it: grouped k/v heads repeated by ?:, the scale, an optional soft-cap
/// chosen by ?:, an additive mask, the softmax in a given dtype cast back. Inlined into both modules below.</summary>
[LrpHelper]
public static class DecoderStyleAttend
{
    [IdentityNonlinearity]
    public static Tensor SoftCap(Tensor scores, double cap) => (scores / cap).tanh() * cap;

    public static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor mask, long heads, long kvHeads, double scaling, double softcap, ScalarType softmaxType)
    {
        var keys = heads != kvHeads ? k.repeat_interleave(heads / kvHeads, dim: 1) : k;
        var values = heads != kvHeads ? v.repeat_interleave(heads / kvHeads, dim: 1) : v;
        var scores = q.matmul(keys.transpose(2, 3)) * scaling;
        scores = softcap > 0 ? SoftCap(scores, softcap) : scores;
        var probs = (scores + mask).softmax(-1, softmaxType).to(scores.dtype);
        return probs.matmul(values);
    }
}

/// <summary>Queries from x, keys and values from context (self-attention when both are the same tensor): the
/// generator fuses its attention (<see cref="DecoderStyleAttentionFull"/> is the same module unfused).</summary>
[LrpModule]
public partial class DecoderStyleAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj, o_proj;
    internal readonly long heads, kvHeads, headDim;
    internal readonly double softcap;

    public DecoderStyleAttention(long d, long heads, long kvHeads, double softcap) : base(nameof(DecoderStyleAttention))
    {
        (this.heads, this.kvHeads, headDim, this.softcap) = (heads, kvHeads, d / heads, softcap);
        q_proj = nn.Linear(d, heads * headDim);
        k_proj = nn.Linear(d, kvHeads * headDim);
        v_proj = nn.Linear(d, kvHeads * headDim);
        o_proj = nn.Linear(heads * headDim, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context, [NoRelevance] Tensor mask)
    {
        long B = x.shape[0], T = x.shape[1], S = context.shape[1];
        var q = q_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var k = k_proj.call(context).view(B, S, kvHeads, headDim).transpose(1, 2);
        var v = v_proj.call(context).view(B, S, kvHeads, headDim).transpose(1, 2);
        var a = DecoderStyleAttend.Attend(q, k, v, mask, heads, kvHeads, 1.0 / Math.Sqrt(headDim), softcap, x.dtype);
        return o_proj.call(a.transpose(1, 2).reshape(B, T, heads * headDim));
    }
}

/// <summary><see cref="DecoderStyleAttention"/> with the attention kept as separate operations (the full matrix).</summary>
[LrpModule, KeepAttentionMatrix]
public partial class DecoderStyleAttentionFull : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj, o_proj;
    internal readonly long heads, kvHeads, headDim;
    internal readonly double softcap;

    public DecoderStyleAttentionFull(long d, long heads, long kvHeads, double softcap) : base(nameof(DecoderStyleAttentionFull))
    {
        (this.heads, this.kvHeads, headDim, this.softcap) = (heads, kvHeads, d / heads, softcap);
        q_proj = nn.Linear(d, heads * headDim);
        k_proj = nn.Linear(d, kvHeads * headDim);
        v_proj = nn.Linear(d, kvHeads * headDim);
        o_proj = nn.Linear(heads * headDim, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor context, [NoRelevance] Tensor mask)
    {
        long B = x.shape[0], T = x.shape[1], S = context.shape[1];
        var q = q_proj.call(x).view(B, T, heads, headDim).transpose(1, 2);
        var k = k_proj.call(context).view(B, S, kvHeads, headDim).transpose(1, 2);
        var v = v_proj.call(context).view(B, S, kvHeads, headDim).transpose(1, 2);
        var a = DecoderStyleAttend.Attend(q, k, v, mask, heads, kvHeads, 1.0 / Math.Sqrt(headDim), softcap, x.dtype);
        return o_proj.call(a.transpose(1, 2).reshape(B, T, heads * headDim));
    }
}

/// <summary>Two decoder-style attentions in a list (rule overrides on one of them).</summary>
[LrpModule]
public partial class DecoderStyleStack : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly ModuleList<DecoderStyleAttention> layers = new();

    public DecoderStyleStack(long d, long heads, long kvHeads) : base(nameof(DecoderStyleStack))
    {
        layers.Add(new DecoderStyleAttention(d, heads, kvHeads, 0));
        layers.Add(new DecoderStyleAttention(d, heads, kvHeads, 0));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask)
    {
        var h = x;
        foreach (var layer in layers) h = h + layer.call(h, h, mask);
        return h;
    }
}

/// <summary>The same stack unfused.</summary>
[LrpModule]
public partial class DecoderStyleStackFull : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly ModuleList<DecoderStyleAttentionFull> layers = new();

    public DecoderStyleStackFull(long d, long heads, long kvHeads) : base(nameof(DecoderStyleStackFull))
    {
        layers.Add(new DecoderStyleAttentionFull(d, heads, kvHeads, 0));
        layers.Add(new DecoderStyleAttentionFull(d, heads, kvHeads, 0));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask)
    {
        var h = x;
        foreach (var layer in layers) h = h + layer.call(h, h, mask);
        return h;
    }
}
