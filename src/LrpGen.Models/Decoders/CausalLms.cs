using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>LlamaForCausalLM. Forward takes the input embeddings (so their relevance comes out per dimension) and
/// returns the logits at one position per row: <c>rows</c> holds b * T + position, flattened.</summary>
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
        for (int i = 0; i < c.Layers; i++) layers.Add(new LlamaDecoderLayer(c, device));
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
        var picked = h.reshape(B * T, -1).index_select(0, rows);
        return lm_head.call(norm.call(picked));
    }
}

/// <summary>Qwen3MoeForCausalLM, with the same forward contract as <see cref="LlamaForCausalLM"/>.</summary>
[LrpModule]
public partial class Qwen3MoeForCausalLM : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly Embedding embed_tokens;
    public readonly ModuleList<MoeDecoderLayer> layers;
    public readonly RmsNorm norm;
    public readonly Linear lm_head;

    public Qwen3MoeForCausalLM(DecoderConfig c, Device? device = null) : base(nameof(Qwen3MoeForCausalLM))
    {
        embed_tokens = nn.Embedding(c.VocabSize, c.HiddenSize, device: device);
        layers = new ModuleList<MoeDecoderLayer>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new MoeDecoderLayer(c, device));
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
        var picked = h.reshape(B * T, -1).index_select(0, rows);
        return lm_head.call(norm.call(picked));
    }
}
