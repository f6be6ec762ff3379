using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.LoopCarriedGate;

// The carried h enters as a gate (a softmax output) but leaves the body as a product. Gate-ness is decided once per
// loop body (a gate only if every iteration leaves it one), so h is no gate in any iteration: under CP-LRP the sigmoid
// factor is the only gate, and h gets the plain gradient in both iterations.
[LrpModule]
public partial class LoopCarriedGate : nn.Module<Tensor, Tensor>
{
    internal readonly ModuleList<Linear> layers;

    public LoopCarriedGate() : base("LoopCarriedGate")
    {
        layers = new ModuleList<Linear>(nn.Linear(4, 4), nn.Linear(4, 4));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = x.softmax(-1);
        foreach (var layer in layers)
            h = layer.call(h).sigmoid() * h;
        return h;
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<LoopCarriedGate>(1, () => new LoopCarriedGate(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) =>
    {
        var h = xs[0].softmax(-1);
        foreach (var layer in mm__.layers)
            h = rr__.Product(rr__.Identity(u__ => u__.sigmoid(), layer.call(h)), h, (p__, q__) => p__ * q__, true, false);
        return h;
    });
