using System;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.HygieneParameterLrpForward;

[LrpModule]
public partial class HygieneParameterLrpForward : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public HygieneParameterLrpForward() : base("HygieneParameterLrpForward")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor LrpForward)
    {
        return nn.functional.silu(fc.call(LrpForward));
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<HygieneParameterLrpForward>(1, () => new HygieneParameterLrpForward(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) => rr__.Identity(u__ => nn.functional.silu(u__), mm__.fc.call(xs[0])));
