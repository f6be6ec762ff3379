using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>A decoder layer in the LLaMA layout (LLaMA, Mistral, Mixtral, Qwen2, Qwen3, Qwen3-MoE, Phi-3): pre-RMSNorm
/// attention and MLP (dense or mixture of experts), each around a residual.</summary>
[LrpModule]
public partial class LlamaDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly RmsNorm input_layernorm, post_attention_layernorm;
    public readonly DecoderAttention self_attn;
    public readonly DecoderMlp mlp;

    /// <param name="c">The family's configuration.</param>
    /// <param name="layer">The layer's index (sliding window, RoPE base).</param>
    /// <param name="device">Where the weights are created (null: the default device).</param>
    public LlamaDecoderLayer(DecoderConfig c, int layer, Device? device = null) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        self_attn = new DecoderAttention(c, layer, device);
        mlp = new DecoderMlp(c, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask)
    {
        var h = x + self_attn.call(input_layernorm.call(x), cos, sin, mask);
        return h + mlp.call(post_attention_layernorm.call(h));
    }
}

/// <summary>A Gemma 2 / Gemma 3 decoder layer: (1 + w) RMSNorms before and after both the attention and the GeGLU
/// MLP, each around a residual.</summary>
[LrpModule]
public partial class GemmaDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly RmsNorm input_layernorm, post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm;
    public readonly DecoderAttention self_attn;
    public readonly DecoderMlp mlp;

    public GemmaDecoderLayer(DecoderConfig c, int layer, Device? device = null) : base(nameof(GemmaDecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, unitOffset: true);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, unitOffset: true);
        pre_feedforward_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, unitOffset: true);
        post_feedforward_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device, unitOffset: true);
        self_attn = new DecoderAttention(c, layer, device);
        mlp = new DecoderMlp(c, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask)
    {
        var h = x + post_attention_layernorm.call(self_attn.call(input_layernorm.call(x), cos, sin, mask));
        return h + post_feedforward_layernorm.call(mlp.call(pre_feedforward_layernorm.call(h)));
    }
}
