using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Attention pieces written once, outside any module, and inlined into every module that calls them.</summary>
[LrpHelper]
public static class AttentionOps
{
    internal const double MaskValue = -1e9;

    public static Tensor SplitHeads(Tensor x, long heads) =>
        x.view(x.shape[0], x.shape[1], heads, x.shape[2] / heads).transpose(1, 2);

    public static Tensor MergeHeads(Tensor x) => x.transpose(1, 2).flatten(2);

    public static Tensor Attend(Tensor q, Tensor k, Tensor v, Tensor keep)
    {
        var scores = q.matmul(k.transpose(-2, -1)) * Scale(q);
        var probs = scores.masked_fill(keep.logical_not(), MaskValue).softmax(-1);
        return probs.matmul(v);
    }

    internal static double Scale(Tensor q) => 1.0 / System.Math.Sqrt(q.shape[3]);
}

/// <summary>A static helper with a rule attribute, in another class: a helper too.</summary>
public static class Activations
{
    [IdentityNonlinearity]
    public static Tensor QuickGelu(Tensor x) => x * torch.sigmoid(x * 1.702);
}

[LrpModule]
public partial class SharedHelperAttention : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj, o_proj;
    internal readonly long heads;

    public SharedHelperAttention(long d, long heads) : base(nameof(SharedHelperAttention))
    {
        this.heads = heads;
        q_proj = nn.Linear(d, d);
        k_proj = nn.Linear(d, d);
        v_proj = nn.Linear(d, d);
        o_proj = nn.Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor keep)
    {
        var q = AttentionOps.SplitHeads(q_proj.call(x), heads);
        var k = AttentionOps.SplitHeads(k_proj.call(x), heads);
        var v = AttentionOps.SplitHeads(v_proj.call(x), heads);
        return o_proj.call(Activations.QuickGelu(AttentionOps.MergeHeads(AttentionOps.Attend(q, k, v, keep))));
    }
}
