using System;
using LrpGen;
using LrpGen.Models.Vit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VitShapes;

// The same ViT as LrpGen.Models.Vit.VisionTransformer, with one difference for the explanation: its attention
// is not marked [CpLrp], so under LrpMethod.AttnLrp relevance also flows through the attention weights (the
// softmax rule and the uniform rule on q k^T and on weights x v: AttnLRP as the paper defines it for attention).
// LXT's ViT recipe, which VisionTransformer follows, keeps CP-LRP inside attention; there AttnLrp and CpLrp coincide.
// The forward passes are identical, and the weights are copied from the trained model.

/// <summary>torchvision's self-attention without [CpLrp]: AttnLRP's rules inside attention.</summary>
[LrpModule]
public partial class AttentionRulesSelfAttention : nn.Module<Tensor, Tensor>
{
    public readonly Parameter in_proj_weight, in_proj_bias;
    public readonly Linear out_proj;
    private readonly long dim, heads, headDim;

    public AttentionRulesSelfAttention(long dim, long heads) : base(nameof(AttentionRulesSelfAttention))
    {
        this.dim = dim;
        this.heads = heads;
        headDim = dim / heads;
        in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim));
        in_proj_bias = nn.Parameter(torch.zeros(3 * dim));
        out_proj = nn.Linear(dim, dim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long B = x.shape[0], N = x.shape[1];
        var qkv = nn.functional.linear(x, in_proj_weight, in_proj_bias);
        var q = qkv.narrow(-1, 0, dim).view(B, N, heads, headDim).transpose(1, 2);
        var k = qkv.narrow(-1, dim, dim).view(B, N, heads, headDim).transpose(1, 2);
        var v = qkv.narrow(-1, 2 * dim, dim).view(B, N, heads, headDim).transpose(1, 2);
        var weights = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(headDim)).softmax(-1);
        var context = weights.matmul(v).transpose(1, 2).reshape(B, N, dim);
        return nn.functional.linear(context, out_proj.weight, out_proj.bias);
    }
}

/// <summary>An encoder block as <see cref="VitBlock"/>, with <see cref="AttentionRulesSelfAttention"/>.</summary>
[LrpModule]
public partial class AttentionRulesBlock : nn.Module<Tensor, Tensor>
{
    public readonly LayerNorm ln_1, ln_2;
    public readonly AttentionRulesSelfAttention self_attention;
    [GammaRule(0.05)] public readonly Linear mlp_0;
    [GammaRule(0.05)] public readonly Linear mlp_3;

    public AttentionRulesBlock(VitConfig c) : base(nameof(AttentionRulesBlock))
    {
        ln_1 = nn.LayerNorm(c.HiddenDim, 1e-6);
        ln_2 = nn.LayerNorm(c.HiddenDim, 1e-6);
        self_attention = new AttentionRulesSelfAttention(c.HiddenDim, c.Heads);
        mlp_0 = nn.Linear(c.HiddenDim, c.MlpDim);
        mlp_3 = nn.Linear(c.MlpDim, c.HiddenDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = x + self_attention.call(ln_1.call(x));
        return h + mlp_3.call(nn.functional.gelu(mlp_0.call(ln_2.call(h))));
    }
}

/// <summary><see cref="VisionTransformer"/> with AttnLRP's rules inside attention.</summary>
[LrpModule]
public partial class AttentionRulesVit : nn.Module<Tensor, Tensor>
{
    [GammaRule(0.25)] public readonly Conv2d conv_proj;
    public readonly Parameter class_token, pos_embedding;
    public readonly ModuleList<AttentionRulesBlock> layers;
    public readonly LayerNorm ln;
    [GammaRule(0.05)] public readonly Linear head;

    public AttentionRulesVit(VitConfig c) : base(nameof(AttentionRulesVit))
    {
        conv_proj = nn.Conv2d(3, c.HiddenDim, kernel_size: c.PatchSize, stride: c.PatchSize);
        long patches = (c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize);
        class_token = nn.Parameter(torch.zeros(1, 1, c.HiddenDim));
        pos_embedding = nn.Parameter(torch.zeros(1, patches + 1, c.HiddenDim));
        layers = new ModuleList<AttentionRulesBlock>();
        for (int i = 0; i < c.Layers; i++) layers.Add(new AttentionRulesBlock(c));
        ln = nn.LayerNorm(c.HiddenDim, 1e-6);
        head = nn.Linear(c.HiddenDim, c.Classes);
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

    /// <summary>A copy of <paramref name="trained"/> (same parameter names), in eval mode.</summary>
    public static AttentionRulesVit CopyOf(VisionTransformer trained, VitConfig config)
    {
        var copy = new AttentionRulesVit(config);
        var source = trained.state_dict();
        var target = copy.state_dict();
        if (source.Count != target.Count) throw new InvalidOperationException($"{source.Count} tensors in the trained model, {target.Count} in the copy.");
        using (torch.no_grad())
            foreach (var (name, tensor) in target)
                tensor.copy_(source[name]);
        copy.eval();
        return copy;
    }
}
