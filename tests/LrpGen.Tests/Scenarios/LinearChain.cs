using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Linear, GELU module, Linear, ReLU function, Linear: epsilon and identity rules in a chain.</summary>
[LrpModule]
public partial class LinearChain : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc1, fc2, fc3;
    internal readonly GELU act;

    public LinearChain(long d, long h, long o, bool bias) : base(nameof(LinearChain))
    {
        fc1 = nn.Linear(d, h, hasBias: bias);
        fc2 = nn.Linear(h, h, hasBias: bias);
        fc3 = nn.Linear(h, o, hasBias: bias);
        act = nn.GELU();
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = act.call(fc1.call(x));
        h = nn.functional.relu(fc2.call(h));
        return fc3.call(h);
    }
}
