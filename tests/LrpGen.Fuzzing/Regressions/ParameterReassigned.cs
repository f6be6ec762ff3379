using System;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.ParameterReassigned;

[LrpModule]
public partial class ParameterReassigned : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public ParameterReassigned() : base("ParameterReassigned")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = fc.call(x);
        return nn.functional.silu(x);
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<ParameterReassigned>(1, () => new ParameterReassigned(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) => rr__.Identity(u__ => nn.functional.silu(u__), mm__.fc.call(xs[0])));
