using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>A LLaMA decoder layer: pre-RMSNorm attention and SwiGLU MLP, each around a residual.</summary>
[LrpModule]
public partial class LlamaDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly RmsNorm input_layernorm, post_attention_layernorm;
    public readonly DecoderAttention self_attn;
    public readonly GatedMlp mlp;

    public LlamaDecoderLayer(DecoderConfig c, Device? device = null) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        self_attn = new DecoderAttention(c, device);
        mlp = new GatedMlp(c.HiddenSize, c.IntermediateSize, c.MlpBias, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask)
    {
        var h = x + self_attn.call(input_layernorm.call(x), cos, sin, mask);
        return h + mlp.call(post_attention_layernorm.call(h));
    }
}

/// <summary>A Qwen3-MoE decoder layer: the LLaMA layout with a sparse mixture of experts for the MLP.</summary>
[LrpModule]
public partial class MoeDecoderLayer : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly RmsNorm input_layernorm, post_attention_layernorm;
    public readonly DecoderAttention self_attn;
    public readonly SparseMoeBlock mlp;

    public MoeDecoderLayer(DecoderConfig c, Device? device = null) : base(nameof(MoeDecoderLayer))
    {
        input_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        post_attention_layernorm = new RmsNorm(c.HiddenSize, c.RmsNormEps, device);
        self_attn = new DecoderAttention(c, device);
        mlp = new SparseMoeBlock(c, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor cos, [NoRelevance] Tensor sin, [NoRelevance] Tensor mask)
    {
        var h = x + self_attn.call(input_layernorm.call(x), cos, sin, mask);
        return h + mlp.call(post_attention_layernorm.call(h));
    }
}
