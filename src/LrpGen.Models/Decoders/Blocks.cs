using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>RMSNorm as Hugging Face computes it (in float32, scaled in the model's dtype); the identity rule
/// makes the normaliser a constant.</summary>
[LrpModule]
public partial class RmsNorm : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    private readonly double eps;

    public RmsNorm(long dim, double eps, Device? device = null) : base(nameof(RmsNorm))
    {
        weight = nn.Parameter(torch.ones(dim, device: device));
        this.eps = eps;
        RegisterComponents();
    }

    [NormIdentity]
    private Tensor Normalize(Tensor x) => x * torch.rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + eps);

    public override Tensor forward(Tensor x) => weight * Normalize(x.to(ScalarType.Float32)).to(x.dtype);
}

/// <summary>SwiGLU: down(silu(gate(x)) * up(x)); identity on SiLU, uniform on the product.</summary>
[LrpModule]
public partial class GatedMlp : nn.Module<Tensor, Tensor>
{
    public readonly Linear gate_proj, up_proj, down_proj;

    public GatedMlp(long hidden, long intermediate, bool bias, Device? device = null) : base(nameof(GatedMlp))
    {
        gate_proj = nn.Linear(hidden, intermediate, hasBias: bias, device: device);
        up_proj = nn.Linear(hidden, intermediate, hasBias: bias, device: device);
        down_proj = nn.Linear(intermediate, hidden, hasBias: bias, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down_proj.call(nn.functional.silu(gate_proj.call(x)) * up_proj.call(x));
}

/// <summary>Grouped-query attention with RoPE and an additive mask (causal and padding), as Hugging Face's eager
/// attention computes it; Qwen3 adds an RMSNorm over each head's queries and keys before RoPE.</summary>
[LrpModule]
public partial class DecoderAttention : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Linear q_proj, k_proj, v_proj, o_proj;
    public readonly RmsNorm? q_norm, k_norm;
    private readonly long heads, kvHeads, headDim;
    private readonly double scaling;
    private readonly bool qkNorm;

    public DecoderAttention(DecoderConfig c, Device? device = null) : base(nameof(DecoderAttention))
    {
        heads = c.Heads;
        kvHeads = c.KvHeads;
        headDim = c.HeadDim;
        scaling = 1.0 / Math.Sqrt(c.HeadDim);
        qkNorm = c.QkNorm;
        q_proj = nn.Linear(c.HiddenSize, c.Heads * c.HeadDim, hasBias: c.AttentionBias, device: device);
        k_proj = nn.Linear(c.HiddenSize, c.KvHeads * c.HeadDim, hasBias: c.AttentionBias, device: device);
        v_proj = nn.Linear(c.HiddenSize, c.KvHeads * c.HeadDim, hasBias: c.AttentionBias, device: device);
        o_proj = nn.Linear(c.Heads * c.HeadDim, c.HiddenSize, hasBias: c.AttentionBias, device: device);
        if (qkNorm)
        {
            q_norm = new RmsNorm(c.HeadDim, c.RmsNormEps, device);
            k_norm = new RmsNorm(c.HeadDim, c.RmsNormEps, device);
        }
        RegisterComponents();
    }

    private Tensor RotateHalf(Tensor x)
    {
        long half = headDim / 2;
        return torch.cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
    }

    /// <summary>The first half of forward: queries and keys (q/k norm, RoPE, grouped heads repeated), scores plus the
    /// mask, softmax. Returns the attention probabilities [B, heads, T, T]; forward inlines it (the generator inlines
    /// helper methods), <see cref="AttentionProbabilities"/> runs it plainly.</summary>
    private Tensor Probabilities(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        long B = x.shape[0], T = x.shape[1];
        var q = q_proj.call(x).view(B, T, heads, headDim);
        var k = k_proj.call(x).view(B, T, kvHeads, headDim);
        q = qkNorm ? q_norm!.call(q) : q;
        k = qkNorm ? k_norm!.call(k) : k;
        q = q.transpose(1, 2);
        k = k.transpose(1, 2);
        q = q * cos + RotateHalf(q) * sin;
        k = k * cos + RotateHalf(k) * sin;
        k = heads != kvHeads ? k.repeat_interleave(heads / kvHeads, dim: 1) : k;
        var scores = q.matmul(k.transpose(2, 3)) * scaling + mask;
        return scores.softmax(-1, ScalarType.Float32).to(q.dtype);
    }

    /// <summary>The attention probabilities [B, heads, T, T] of this layer for its (normalised) input x, as forward
    /// computes them (for attention rollout and inspection). Plain TorchSharp: autograd records it unless the caller
    /// runs it under no_grad.</summary>
    public Tensor AttentionProbabilities(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        return Probabilities(x, cos, sin, mask).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask)
    {
        long B = x.shape[0], T = x.shape[1];
        var probs = Probabilities(x, cos, sin, mask);
        var v = v_proj.call(x).view(B, T, kvHeads, headDim).transpose(1, 2);
        if (heads != kvHeads)
            v = v.repeat_interleave(heads / kvHeads, dim: 1);
        var context = probs.matmul(v).transpose(1, 2).reshape(B, T, heads * headDim);
        return o_proj.call(context);
    }
}
