using System;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.DtypeOfDeadTensor;

[LrpModule]
public partial class DtypeOfDeadTensor : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public DtypeOfDeadTensor() : base("DtypeOfDeadTensor")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var y = fc.call(x);
        var h = nn.functional.silu(x);
        return h.to(y.dtype);
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<DtypeOfDeadTensor>(1, () => new DtypeOfDeadTensor(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) => rr__.Identity(u__ => nn.functional.silu(u__), xs[0]));
