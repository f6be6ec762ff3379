using System;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.HygieneParameterCtx;

[LrpModule]
public partial class HygieneParameterCtx : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public HygieneParameterCtx() : base("HygieneParameterCtx")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ctx)
    {
        return nn.functional.silu(fc.call(ctx));
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<HygieneParameterCtx>(1, () => new HygieneParameterCtx(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) => rr__.Identity(u__ => nn.functional.silu(u__), mm__.fc.call(xs[0])));
