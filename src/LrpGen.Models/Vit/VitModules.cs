using System;
using LrpGen;
using LrpGen.Models.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Vit;

/// <summary>torchvision's multi-head self-attention (one in_proj for q, k, v). LXT's ViT recipe: the projections
/// are functional calls (plain gradient) and CP-LRP holds inside attention: no relevance through the weights.</summary>
[LrpModule, CpLrp]
public partial class VitSelfAttention : nn.Module<Tensor, Tensor>
{
    public readonly Parameter in_proj_weight, in_proj_bias;
    public readonly Linear out_proj;
    private readonly long dim, heads, headDim;

    public VitSelfAttention(long dim, long heads, Device? device = null) : base(nameof(VitSelfAttention))
    {
        this.dim = dim;
        this.heads = heads;
        headDim = dim / heads;
        in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim, device: device));
        in_proj_bias = nn.Parameter(torch.zeros(3 * dim, device: device));
        out_proj = nn.Linear(dim, dim, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var qkv = nn.functional.linear(x, in_proj_weight, in_proj_bias);
        var q = AttentionOps.SplitHeads(qkv.narrow(-1, 0, dim), heads, headDim);
        var k = AttentionOps.SplitHeads(qkv.narrow(-1, dim, dim), heads, headDim);
        var v = AttentionOps.SplitHeads(qkv.narrow(-1, 2 * dim, dim), heads, headDim);
        var weights = AttentionOps.Softmax(q.matmul(k.transpose(-2, -1)) / Math.Sqrt(headDim), x.dtype);
        var context = AttentionOps.MergeHeads(weights.matmul(v));
        return nn.functional.linear(context, out_proj.weight, out_proj.bias);
    }
}

/// <summary>A torchvision encoder block: pre-LN attention and a GELU MLP (its linears under the Gamma rule).</summary>
[LrpModule]
public partial class VitBlock : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm ln_1, ln_2;
    public readonly VitSelfAttention self_attention;
    [GammaRule(0.05)] public readonly Linear mlp_0;
    [GammaRule(0.05)] public readonly Linear mlp_3;

    public VitBlock(VitConfig c, Device? device = null) : base(nameof(VitBlock))
    {
        ln_1 = nn.LayerNorm(c.HiddenDim, 1e-6, device: device);
        ln_2 = nn.LayerNorm(c.HiddenDim, 1e-6, device: device);
        self_attention = new VitSelfAttention(c.HiddenDim, c.Heads, device);
        mlp_0 = nn.Linear(c.HiddenDim, c.MlpDim, device: device);
        mlp_3 = nn.Linear(c.MlpDim, c.HiddenDim, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = x + self_attention.call(ln_1.call(x));
        return h + mlp_3.call(nn.functional.gelu(mlp_0.call(ln_2.call(h))));
    }
}

/// <summary>torchvision's VisionTransformer: patch embedding (Conv2d, Gamma rule), class token, learned positions,
/// encoder blocks, final LayerNorm, linear head (Gamma rule) on the class token. Input: pixels [B, 3, H, W].</summary>
[LrpModule]
public partial class VisionTransformer : nn.Module<Tensor, Tensor>
{
    [GammaRule(0.25)] public readonly Conv2d conv_proj;
    public readonly Parameter class_token, pos_embedding;
    public readonly ModuleList<VitBlock> layers;
    public readonly LayerNorm ln;
    [GammaRule(0.05)] public readonly Linear head;

    public VisionTransformer(VitConfig c, Device? device = null) : base(nameof(VisionTransformer))
    {
        conv_proj = nn.Conv2d(3, c.HiddenDim, kernel_size: c.PatchSize, stride: c.PatchSize, device: device);
        long patches = (c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize);
        class_token = nn.Parameter(torch.zeros(1, 1, c.HiddenDim, device: device));
        pos_embedding = nn.Parameter(torch.zeros(1, patches + 1, c.HiddenDim, device: device));
        layers = new ModuleList<VitBlock>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new VitBlock(c, device));
        ln = nn.LayerNorm(c.HiddenDim, 1e-6, device: device);
        head = nn.Linear(c.HiddenDim, c.Classes, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixels)
    {
        long B = pixels.shape[0];
        var patches = conv_proj.call(pixels).flatten(2).transpose(1, 2);
        var tokens = torch.cat(new[] { class_token.expand(B, -1, -1), patches }, 1) + pos_embedding;
        foreach (var layer in layers)
            tokens = layer.call(tokens);
        return head.call(ln.call(tokens[TensorIndex.Colon, 0]));
    }
}
