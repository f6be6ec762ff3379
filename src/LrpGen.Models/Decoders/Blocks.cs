using System;
using LrpGen;
using LrpGen.Models.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>RMSNorm as Hugging Face computes it: LLaMA's normalises in float32 and scales by weight in the model's
/// dtype; Gemma's (unit offset) scales by (1 + weight) in float32. The identity rule makes the normaliser a constant;
/// the weight, with or without the offset, is a constant factor.</summary>
[LrpModule]
public partial class RmsNorm : nn.Module<Tensor, Tensor>
{
    public readonly Parameter weight;
    private readonly double eps;
    private readonly bool unitOffset;

    public RmsNorm(long dim, double eps, Device? device = null, bool unitOffset = false) : base(nameof(RmsNorm))
    {
        // Gemma stores w with the norm scaling by 1 + w: its neutral weight is 0.
        weight = nn.Parameter(unitOffset ? torch.zeros(dim, device: device) : torch.ones(dim, device: device));
        this.eps = eps;
        this.unitOffset = unitOffset;
        RegisterComponents();
    }

    [NormIdentity]
    private Tensor Normalize(Tensor x) => x * torch.rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + eps);

    public override Tensor forward(Tensor x) => unitOffset
        ? (Normalize(x.to(ScalarType.Float32)) * (weight.to(ScalarType.Float32) + 1.0)).to(x.dtype)
        : weight * Normalize(x.to(ScalarType.Float32)).to(x.dtype);
}

/// <summary>SwiGLU: down(silu(gate(x)) * up(x)); identity on SiLU, uniform on the product. One expert of a
/// mixture of experts.</summary>
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

/// <summary>A decoder layer's MLP, which Hugging Face names `mlp` in both forms: dense, down(act(gate(x)) * up(x))
/// with SiLU (SwiGLU) or tanh GELU (GeGLU), identity on the activation and uniform on the product; or a sparse
/// mixture of SwiGLU experts (Qwen3-MoE, Mixtral), where a softmax router picks the top-k experts per token
/// (renormalised when norm_topk_prob). Rules as LXT: the router gets the plain gradient, which experts were picked is
/// a constant, and each routing weight x expert output gets the uniform rule. The experts run densely (every expert
/// on every token, unpicked ones weighted 0): the same outputs and relevance as the sparse dispatch.</summary>
[LrpModule]
public partial class DecoderMlp : nn.Module<Tensor, Tensor>
{
    public readonly Linear? gate_proj, up_proj, down_proj;
    public readonly Linear? gate;
    public readonly ModuleList<GatedMlp>? experts;
    private readonly bool sparse, geluTanh, normTopk;
    private readonly long topK, expertCount;

    public DecoderMlp(DecoderConfig c, Device? device = null) : base(nameof(DecoderMlp))
    {
        sparse = c.Experts > 0;
        geluTanh = c.HiddenAct == "gelu_pytorch_tanh";
        if (sparse)
        {
            gate = nn.Linear(c.HiddenSize, c.Experts, hasBias: false, device: device);
            experts = new ModuleList<GatedMlp>();
            for (int e = 0; e < c.Experts; e++) experts.Add(new GatedMlp(c.HiddenSize, c.MoeIntermediateSize, bias: false, device: device));
            topK = c.ExpertsPerToken;
            expertCount = c.Experts;
            normTopk = c.NormTopkProb;
        }
        else
        {
            gate_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: c.MlpBias, device: device);
            up_proj = nn.Linear(c.HiddenSize, c.IntermediateSize, hasBias: c.MlpBias, device: device);
            down_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, hasBias: c.MlpBias, device: device);
        }
        RegisterComponents();
    }

    private Tensor Dense(Tensor x)
    {
        var g = gate_proj!.call(x);
        var activated = geluTanh ? nn.functional.gelu(g, GELU.Approximate.tanh) : nn.functional.silu(g);
        return down_proj!.call(activated * up_proj!.call(x));
    }

    /// <summary>Routing weights [tokens, experts]: softmax in float32, zero outside the top k, renormalised.</summary>
    [PlainGradient]
    private Tensor Route(Tensor tokens)
    {
        var probs = gate!.call(tokens).softmax(-1, ScalarType.Float32);
        // The choice of experts is piecewise constant: no relevance flows through the indices (detach says so).
        var picked = probs.detach().argsort(-1, descending: true).narrow(-1, 0, topK);
        var selected = torch.zeros_like(probs).scatter(-1, picked, torch.ones_like(picked, dtype: probs.dtype));
        var weights = probs * selected;
        weights = normTopk ? weights / weights.sum(-1, keepdim: true) : weights;
        return weights.to(tokens.dtype);
    }

    public override Tensor forward(Tensor x)
    {
        long B = x.shape[0], T = x.shape[1], H = x.shape[2];
        var output = x;
        if (sparse)
        {
            var tokens = x.reshape(B * T, H);
            var routing = Route(tokens);
            var mixed = torch.zeros_like(tokens);
            for (int e = 0; e < expertCount; e++)
                mixed = mixed + routing.narrow(-1, e, 1) * experts![e].call(tokens);
            output = mixed.reshape(B, T, H);
        }
        else
            output = Dense(x);
        return output;
    }
}

/// <summary>Grouped-query attention with RoPE and an additive mask (causal and padding, or the sliding window), as
/// Hugging Face's eager attention computes it. Options by configuration: q/k/v (and o) biases, an RMSNorm over each
/// head's queries and keys before RoPE (Qwen3, Gemma 3), the score scale (Gemma's query_pre_attn_scalar), soft-capped
/// scores (Gemma 2: cap * tanh(s / cap), identity rule), and which RoPE table and mask of the stacks the layer takes.</summary>
[LrpModule]
public partial class DecoderAttention : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Linear q_proj, k_proj, v_proj, o_proj;
    public readonly RmsNorm? q_norm, k_norm;
    private readonly long heads, kvHeads, headDim, ropeKind, maskKind;
    private readonly double scaling, softcap;
    private readonly bool qkNorm;

    /// <param name="c">The family's configuration.</param>
    /// <param name="layer">The layer's index: it decides the sliding window and the RoPE base.</param>
    /// <param name="device">Where the weights are created (null: the default device).</param>
    public DecoderAttention(DecoderConfig c, int layer, Device? device = null) : base(nameof(DecoderAttention))
    {
        heads = c.Heads;
        kvHeads = c.KvHeads;
        headDim = c.HeadDim;
        scaling = c.AttentionScaling;
        softcap = c.AttentionSoftcap;
        qkNorm = c.QkNorm;
        maskKind = c.IsSliding(layer) ? 1 : 0;
        ropeKind = c.IsSliding(layer) && c.LocalRopeTheta > 0 ? 1 : 0;
        bool qkvBias = c.AttentionBias || c.QkvBias;
        q_proj = nn.Linear(c.HiddenSize, c.Heads * c.HeadDim, hasBias: qkvBias, device: device);
        k_proj = nn.Linear(c.HiddenSize, c.KvHeads * c.HeadDim, hasBias: qkvBias, device: device);
        v_proj = nn.Linear(c.HiddenSize, c.KvHeads * c.HeadDim, hasBias: qkvBias, device: device);
        o_proj = nn.Linear(c.Heads * c.HeadDim, c.HiddenSize, hasBias: c.AttentionBias, device: device);
        if (qkNorm)
        {
            q_norm = new RmsNorm(c.HeadDim, c.RmsNormEps, device, c.NormUnitOffset);
            k_norm = new RmsNorm(c.HeadDim, c.RmsNormEps, device, c.NormUnitOffset);
        }
        RegisterComponents();
    }

    /// <summary>Gemma 2's soft-capping, cap * tanh(s / cap): element-wise, so the identity rule.</summary>
    [IdentityNonlinearity]
    private Tensor SoftCap(Tensor scores) => (scores / softcap).tanh() * softcap;

    /// <summary>The first half of forward: queries and keys (q/k norm, RoPE, grouped heads repeated), scaled scores
    /// (soft-capped) plus the mask, softmax. Returns the attention probabilities [B, heads, T, T]; forward inlines it
    /// (the generator inlines helper methods), <see cref="AttentionProbabilities"/> runs it plainly.</summary>
    private Tensor Probabilities(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        var layerCos = cos.select(0, ropeKind);
        var layerSin = sin.select(0, ropeKind);
        var q = AttentionOps.SplitHeads(q_proj.call(x), heads, headDim);
        var k = AttentionOps.SplitHeads(k_proj.call(x), kvHeads, headDim);
        q = qkNorm ? q_norm!.call(q) : q;
        k = qkNorm ? k_norm!.call(k) : k;
        q = AttentionOps.Rope(q, layerCos, layerSin);
        k = AttentionOps.Rope(k, layerCos, layerSin);
        k = heads != kvHeads ? k.repeat_interleave(heads / kvHeads, dim: 1) : k;
        var scores = q.matmul(k.transpose(2, 3)) * scaling;
        scores = softcap > 0 ? SoftCap(scores) : scores;
        return AttentionOps.Probabilities(scores, mask.select(0, maskKind), ScalarType.Float32);
    }

    /// <summary>The attention probabilities [B, heads, T, T] of this layer for its (normalised) input x and the stacked
    /// tables of <see cref="DecoderInputs"/>, as forward computes them (for attention rollout and inspection). Plain
    /// TorchSharp: autograd records it unless the caller runs it under no_grad.</summary>
    public Tensor AttentionProbabilities(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        return Probabilities(x, cos, sin, mask).MoveToOuterDisposeScope();
    }

    /// <param name="x">The layer's normalised input [B, T, hidden].</param>
    /// <param name="cos">RoPE cos tables per kind [R, B, 1, T, D] (<see cref="DecoderInputs.LayerCos"/>).</param>
    /// <param name="sin">RoPE sin tables per kind [R, B, 1, T, D].</param>
    /// <param name="mask">Additive masks per kind [M, B, 1, T, T] (<see cref="DecoderInputs.LayerMasks"/>).</param>
    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask)
    {
        var probs = Probabilities(x, cos, sin, mask);
        var v = AttentionOps.SplitHeads(v_proj.call(x), kvHeads, headDim);
        v = heads != kvHeads ? v.repeat_interleave(heads / kvHeads, dim: 1) : v;
        return o_proj.call(AttentionOps.MergeHeads(probs.matmul(v)));
    }
}
