using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>LayerNorm as a module and as a function, and RMSNorm as a [NormIdentity] helper.</summary>
[LrpModule]
public partial class Norms : nn.Module<Tensor, Tensor>
{
    internal readonly LayerNorm ln;
    internal readonly Linear fc;
    internal readonly Parameter lnWeight, lnBias, rmsWeight;
    internal readonly long dim;
    internal const double RmsEps = 1e-6;

    public Norms(long d) : base(nameof(Norms))
    {
        dim = d;
        ln = nn.LayerNorm(d);
        fc = nn.Linear(d, d);
        lnWeight = nn.Parameter(torch.randn(d));
        lnBias = nn.Parameter(torch.randn(d));
        rmsWeight = nn.Parameter(torch.randn(d));
        RegisterComponents();
    }

    [NormIdentity]
    private Tensor RmsNorm(Tensor x) =>
        x * torch.rsqrt(x.pow(2).mean(new long[] { -1 }, keepdim: true) + RmsEps) * rmsWeight;

    public override Tensor forward(Tensor x)
    {
        var h = fc.call(ln.call(x));
        h = nn.functional.layer_norm(h, new long[] { dim }, lnWeight, lnBias, 1e-5);
        return RmsNorm(h);
    }
}
