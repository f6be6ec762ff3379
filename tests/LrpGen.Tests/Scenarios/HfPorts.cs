using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Attention written with einsum (uniform rule on both products, a gate under CP-LRP), the mask cast with
/// keep.to(h.dtype) after h's last tensor use, and .mT.</summary>
[LrpModule]
public partial class EinsumAttention : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear q_proj, k_proj, v_proj;
    internal readonly double scale;

    public EinsumAttention(long d) : base(nameof(EinsumAttention))
    {
        q_proj = nn.Linear(d, d);
        k_proj = nn.Linear(d, d);
        v_proj = nn.Linear(d, d);
        scale = 1.0 / System.Math.Sqrt(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor keep)
    {
        var h = q_proj.call(x);
        var q = h * 1.0;
        var k = k_proj.call(x).mT.mT;
        var scores = torch.einsum("btd,bsd->bts", q, k) * scale;
        var bias = (keep.to(h.dtype) - 1) * 1e9;
        var probs = (scores + bias).softmax(-1);
        return torch.einsum("bts,bsd->btd", probs, v_proj.call(x));
    }
}

/// <summary>Values of torch selections (topk, max along a dim, sort by deconstruction), select, where with a constant
/// condition, tril/triu, stack and type_as: each an exact adjoint.</summary>
[LrpModule]
public partial class Selections : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear fc, gc;

    public Selections(long t) : base(nameof(Selections))
    {
        fc = nn.Linear(t, t);
        gc = nn.Linear(t, t);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, [NoRelevance] Tensor condition)
    {
        var h = fc.call(x);
        var g = gc.call(x).type_as(h);
        var top = h.topk(2).values.sum(-1);
        var largest = h.max(-1).values;
        var (sorted, order) = h.sort(-1);
        var first = sorted.select(-1, 0);
        var chosen = torch.where(condition, h, g).tril() + g.triu(1);
        var stacked = torch.stack(new[] { chosen, h }, 1).sum(1);
        return stacked.sum(-1) + top + largest + first;
    }
}

/// <summary>An activation module whose forward is marked [IdentityNonlinearity].</summary>
[LrpModule]
public partial class QuickGelu : nn.Module<Tensor, Tensor>
{
    public QuickGelu() : base(nameof(QuickGelu)) { }

    [IdentityNonlinearity]
    public override Tensor forward(Tensor x) => x * torch.sigmoid(x * 1.702);
}

/// <summary>An RMSNorm written inline in a forward marked [NormIdentity].</summary>
[LrpModule]
public partial class InlineRmsNorm : nn.Module<Tensor, Tensor>
{
    internal readonly Parameter weight;

    public InlineRmsNorm(long d) : base(nameof(InlineRmsNorm))
    {
        weight = nn.Parameter(torch.ones(d));
        RegisterComponents();
    }

    [NormIdentity]
    public override Tensor forward(Tensor x) => x * x.pow(2).mean(new long[] { -1 }, keepdim: true).add(1e-6).rsqrt() * weight;
}

/// <summary>[EpsilonRule] on forward, over the modules above.</summary>
[LrpModule]
public partial class ForwardRules : nn.Module<Tensor, Tensor>
{
    internal readonly Linear up, down;
    internal readonly QuickGelu act = new();
    internal readonly InlineRmsNorm norm;

    public ForwardRules(long d) : base(nameof(ForwardRules))
    {
        up = nn.Linear(d, 2 * d);
        down = nn.Linear(2 * d, d);
        norm = new InlineRmsNorm(d);
        RegisterComponents();
    }

    [EpsilonRule(0.25)]
    public override Tensor forward(Tensor x) => down.call(act.call(up.call(norm.call(x))));
}

/// <summary>User names that are the generator's own (ctx, tape, output, options, all, g_x, f0, i0, point0, t, frame,
/// gs, ga): the generated code must keep apart from them.</summary>
[LrpModule]
public partial class Hygiene : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    internal readonly ModuleList<Linear> all = new();
    internal readonly double options = 0.5;

    public Hygiene(long d) : base(nameof(Hygiene))
    {
        for (int i = 0; i < 2; i++) all.Add(nn.Linear(d, d));
        RegisterComponents();
    }

    private Tensor ga(Tensor gs, Tensor frame) => gs * frame;

    public override Tensor forward(Tensor x, Tensor ctx, [NoRelevance] Tensor tape)
    {
        var output = x;
        int t = 0;
        foreach (var f0 in all)
        {
            var g_x = f0.call(output);
            output = g_x + ctx * options;
            t++;
        }
        var point0 = ga(output, ctx) * t;
        var i0 = point0 * tape;
        return i0;
    }
}

/// <summary>scaled_dot_product_attention with a null mask argument (causal).</summary>
[LrpModule]
public partial class SdpaNullMask : nn.Module<Tensor, Tensor>
{
    internal readonly Linear q, k, v;

    public SdpaNullMask(long d) : base(nameof(SdpaNullMask))
    {
        q = nn.Linear(d, d);
        k = nn.Linear(d, d);
        v = nn.Linear(d, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        nn.functional.scaled_dot_product_attention(q.call(x), k.call(x), v.call(x), null, 0.0, true);
}

/// <summary>A forward parameter reassigned in a loop, and a gate carried around a loop: it leaves the body as a product,
/// so it is no gate in any iteration (gate-ness is decided once per body) and CP-LRP detaches only the sigmoid.</summary>
[LrpModule]
public partial class LoopCarried : nn.Module<Tensor, Tensor>
{
    internal readonly ModuleList<Linear> layers = new();

    public LoopCarried(long d) : base(nameof(LoopCarried))
    {
        for (int i = 0; i < 2; i++) layers.Add(nn.Linear(d, d));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var layer in layers) x = nn.functional.tanh(layer.call(x));
        var h = x.softmax(-1);
        foreach (var layer in layers) h = layer.call(h).sigmoid() * h;
        return h;
    }
}
