using System;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.HygieneLocalTape;

[LrpModule]
public partial class HygieneLocalTape : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public HygieneLocalTape() : base("HygieneLocalTape")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var tape = fc.call(x);
        return nn.functional.silu(tape);
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<HygieneLocalTape>(1, () => new HygieneLocalTape(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) => rr__.Identity(u__ => nn.functional.silu(u__), mm__.fc.call(xs[0])));
