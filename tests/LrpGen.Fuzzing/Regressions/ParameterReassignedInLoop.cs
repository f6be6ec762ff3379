using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.ParameterReassignedInLoop;

[LrpModule]
public partial class ParameterReassignedInLoop : nn.Module<Tensor, Tensor>
{
    internal readonly ModuleList<Linear> layers;

    public ParameterReassignedInLoop() : base("ParameterReassignedInLoop")
    {
        layers = new ModuleList<Linear>(nn.Linear(4, 4), nn.Linear(4, 4));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var layer in layers)
            x = nn.functional.tanh(layer.call(x));
        return x;
    }
}

public sealed class Case() : LrpGen.Fuzzing.SimpleCase<ParameterReassignedInLoop>(1, () => new ParameterReassignedInLoop(), new[] { new long[] { 2, 3, 4 } },
    (m, xs, o) => m.LrpForward(xs[0], o), (m, xs) => m.call(xs[0]),
    (rr__, mm__, xs) =>
    {
        var h = xs[0];
        foreach (var layer in mm__.layers) h = rr__.Identity(u__ => nn.functional.tanh(u__), layer.call(h));
        return h;
    });
