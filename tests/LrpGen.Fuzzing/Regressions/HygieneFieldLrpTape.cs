using System;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.HygieneFieldLrpTape;

[LrpModule]
public partial class HygieneFieldLrpTape : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc, LrpTape; // reject: LRP008

    public HygieneFieldLrpTape() : base("HygieneFieldLrpTape")
    {
        fc = nn.Linear(4, 4);
        LrpTape = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        return nn.functional.silu(fc.call(LrpTape.call(x)));
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<HygieneFieldLrpTape>(1, () => new HygieneFieldLrpTape(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) => rr__.Identity(u__ => nn.functional.silu(u__), mm__.fc.call(mm__.LrpTape.call(xs[0]))));
