using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.NegatedGate;

// (-g) * y and (1 - g) * y with g a sigmoid output: a sign flip is structural (g * -1.0 keeps g a gate in the
// generator), so under CP-LRP the negated gate is a constant too.
[LrpModule]
public partial class NegatedGate : nn.Module<Tensor, Tensor>
{
    internal readonly Linear gate, up;

    public NegatedGate() : base("NegatedGate")
    {
        gate = nn.Linear(4, 4);
        up = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var g = torch.sigmoid(gate.call(x));
        return (-g) * up.call(x) + (1.0 - g) * up.call(x);
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<NegatedGate>(1, () => new NegatedGate(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) =>
    {
        var g = rr__.Identity(u__ => torch.sigmoid(u__), mm__.gate.call(xs[0]));
        var y = mm__.up.call(xs[0]);
        return rr__.Product(-g, y, (p__, q__) => p__ * q__, true, false) + rr__.Product(1.0 - g, y, (p__, q__) => p__ * q__, true, false);
    });
