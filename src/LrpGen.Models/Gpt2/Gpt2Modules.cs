using System;
using LrpGen;
using LrpGen.Models.Attention;
using LrpGen.Models.Decoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Gpt2;

/// <summary>A GPT-2 block: pre-LN attention (fused q/k/v projection) and a gelu_new MLP, each around a residual.
/// Hugging Face's Conv1D weights ([in, out]) are loaded transposed into Linear layers.</summary>
[LrpModule]
public partial class Gpt2Block : nn.Module<Tensor, Tensor, Tensor>
{
    public readonly LayerNorm ln_1, ln_2;
    public readonly Linear c_attn, attn_proj, c_fc, mlp_proj;
    private readonly long hidden, heads, headDim;

    public Gpt2Block(DecoderConfig c, Device? device = null) : base(nameof(Gpt2Block))
    {
        hidden = c.HiddenSize;
        heads = c.Heads;
        headDim = c.HiddenSize / c.Heads;
        ln_1 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device);
        ln_2 = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device);
        c_attn = nn.Linear(c.HiddenSize, 3 * c.HiddenSize, device: device);
        attn_proj = nn.Linear(c.HiddenSize, c.HiddenSize, device: device);
        c_fc = nn.Linear(c.HiddenSize, c.IntermediateSize, device: device);
        mlp_proj = nn.Linear(c.IntermediateSize, c.HiddenSize, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor mask)
    {
        var qkv = c_attn.call(ln_1.call(x));
        var q = AttentionOps.SplitHeads(qkv.narrow(-1, 0, hidden), heads, headDim);
        var k = AttentionOps.SplitHeads(qkv.narrow(-1, hidden, hidden), heads, headDim);
        var v = AttentionOps.SplitHeads(qkv.narrow(-1, 2 * hidden, hidden), heads, headDim);
        var probs = AttentionOps.Probabilities(q.matmul(k.transpose(-1, -2)) / Math.Sqrt(headDim), mask, ScalarType.Float32);
        var h = x + attn_proj.call(AttentionOps.MergeHeads(probs.matmul(v)));
        var inner = nn.functional.gelu(c_fc.call(ln_2.call(h)), GELU.Approximate.tanh);
        return h + mlp_proj.call(inner);
    }
}

/// <summary>GPT2LMHeadModel. Forward takes the token embeddings (relevance is reported there, before the learned
/// positions are added) and returns the logits at one position per row (rows: b * T + position, or with the token ids
/// whose logits alone are wanted, as <see cref="ExplainedLogits"/> says).</summary>
[LrpModule]
public partial class Gpt2LMHeadModel : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding wte, wpe;
    public readonly ModuleList<Gpt2Block> layers;
    public readonly LayerNorm ln_f;
    public readonly Linear lm_head;

    public Gpt2LMHeadModel(DecoderConfig c, Device? device = null) : base(nameof(Gpt2LMHeadModel))
    {
        wte = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        wpe = nn.Embedding(c.MaxPositions, c.HiddenSize, device: device);
        layers = new ModuleList<Gpt2Block>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new Gpt2Block(c, device));
        ln_f = nn.LayerNorm(c.HiddenSize, c.LayerNormEps, device: device);
        lm_head = nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor embeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor mask, [NoRelevance] Tensor rows)
    {
        var h = embeds + wpe.call(positionIds);
        foreach (var layer in layers)
            h = layer.call(h, mask);
        long B = h.shape[0], T = h.shape[1];
        var picked = h.reshape(B * T, -1).index_select(0, ExplainedLogits.Positions(rows));
        var normed = ln_f.call(picked);
        return rows.dim() == 1 ? lm_head.call(normed)
            : ExplainedLogits.WithLogNormalizer(ExplainedLogits.OfIds(normed, lm_head.weight, rows),
                nn.functional.linear(normed.detach(), lm_head.weight));
    }
}
