using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>A causal LM in the LLaMA layout (LLaMA, Mistral, Mixtral, Qwen2, Qwen3, Qwen3-MoE, Phi-3). Forward takes the
/// input embeddings (so their relevance comes out per dimension), the stacked RoPE tables and masks of
/// <see cref="DecoderInputs"/>, and returns the logits at one position per row: <c>rows</c> holds b * T + position,
/// flattened ([R]: the logits over the vocabulary), or each such position followed by the token ids whose logits alone
/// are wanted ([R, 1 + K], <see cref="ExplainedLogits"/>).</summary>
[LrpModule]
public partial class LlamaForCausalLM : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding embed_tokens;
    public readonly ModuleList<LlamaDecoderLayer> layers;
    public readonly RmsNorm norm;
    public readonly Linear lm_head;

    public LlamaForCausalLM(DecoderConfig c, Device? device = null) : base(nameof(LlamaForCausalLM))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        layers = new ModuleList<LlamaDecoderLayer>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new LlamaDecoderLayer(c, i, device));
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        lm_head = nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor embeds, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask, [NoRelevance] Tensor rows)
    {
        var h = embeds;
        foreach (var layer in layers)
            h = layer.call(h, cos, sin, mask);
        long B = h.shape[0], T = h.shape[1];
        var picked = h.reshape(B * T, -1).index_select(0, ExplainedLogits.Positions(rows));
        var normed = norm.call(picked);
        return rows.dim() == 1 ? lm_head.call(normed)
            : ExplainedLogits.WithLogNormalizer(ExplainedLogits.OfIds(normed, lm_head.weight, rows),
                nn.functional.linear(normed.detach(), lm_head.weight));
    }
}

/// <summary>Gemma 2 / Gemma 3 (text) causal LM, with the forward contract of <see cref="LlamaForCausalLM"/>: the
/// embeddings are scaled by sqrt(hidden) (a constant factor, rounded to the model's dtype as Hugging Face does) and the
/// logits soft-capped where the config says (Gemma 2; identity rule on the tanh).</summary>
[LrpModule]
public partial class GemmaForCausalLM : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding embed_tokens;
    public readonly ModuleList<GemmaDecoderLayer> layers;
    public readonly RmsNorm norm;
    public readonly Linear lm_head;
    private readonly double embedScale, softcap;

    public GemmaForCausalLM(DecoderConfig c, Device? device = null) : base(nameof(GemmaForCausalLM))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        layers = new ModuleList<GemmaDecoderLayer>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new GemmaDecoderLayer(c, i, device));
        norm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, unitOffset: true);
        lm_head = nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false, device: device);
        embedScale = Math.Sqrt(c.HiddenSize);
        softcap = c.FinalLogitSoftcap;
        RegisterComponents();
    }

    /// <summary>cap * tanh(logits / cap): element-wise, so the identity rule.</summary>
    [IdentityNonlinearity]
    private Tensor SoftCap(Tensor logits) => (logits / softcap).tanh() * softcap;

    public override Tensor forward(Tensor embeds, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask, [NoRelevance] Tensor rows)
    {
        // Hugging Face multiplies by sqrt(hidden) as a tensor of the embeddings' dtype: the factor rounded to it.
        var h = embeds * torch.tensor(embedScale, embeds.dtype, embeds.device);
        foreach (var layer in layers)
            h = layer.call(h, cos, sin, mask);
        long B = h.shape[0], T = h.shape[1];
        var picked = h.reshape(B * T, -1).index_select(0, ExplainedLogits.Positions(rows));
        var normed = norm.call(picked);
        return rows.dim() == 1 ? Final(lm_head.call(normed))
            : ExplainedLogits.WithLogNormalizer(Final(ExplainedLogits.OfIds(normed, lm_head.weight, rows)),
                Final(nn.functional.linear(normed.detach(), lm_head.weight)));
    }

    /// <summary>The final logits: soft-capped where the config says (Gemma 2).</summary>
    private Tensor Final(Tensor logits) => softcap > 0 ? SoftCap(logits) : logits;
}
