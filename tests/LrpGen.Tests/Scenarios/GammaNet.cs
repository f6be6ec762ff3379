using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>The Gamma rule on a Linear member and on a Conv2d member (with biases).</summary>
[LrpModule]
public partial class GammaNet : nn.Module<Tensor, Tensor>
{
    [GammaRule(0.25)] internal readonly Conv2d conv;
    [GammaRule(0.1)] internal readonly Linear fc;

    public GammaNet() : base(nameof(GammaNet))
    {
        conv = nn.Conv2d(2, 3, kernel_size: 3, padding: 1);
        fc = nn.Linear(3 * 4 * 4, 5);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc.call(conv.call(x).flatten(1));
}
