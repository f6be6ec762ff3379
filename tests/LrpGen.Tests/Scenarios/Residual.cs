using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Pre-LN residual MLP block: x + fc2(gelu(fc1(ln(x)))). An [LrpModule] child of other scenarios.</summary>
[LrpModule]
public partial class ResidualBlock : nn.Module<Tensor, Tensor>
{
    internal readonly LayerNorm ln;
    internal readonly Linear fc1, fc2;

    public ResidualBlock(long d, long h) : base(nameof(ResidualBlock))
    {
        ln = nn.LayerNorm(d);
        fc1 = nn.Linear(d, h);
        fc2 = nn.Linear(h, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = fc1.call(ln.call(x));
        h = nn.functional.gelu(h);
        return x + fc2.call(h);
    }
}
