using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Configuration conditionals: if/else on fields, ?: on tensors, a loop whose body branches.</summary>
[LrpModule]
public partial class Conditionals : nn.Module<Tensor, Tensor>
{
    internal readonly ModuleList<Linear> layers;
    internal readonly Linear gate;
    internal readonly bool useGate, residual;
    internal readonly double scale;

    public Conditionals(long d, int n, bool useGate, bool residual, double scale) : base(nameof(Conditionals))
    {
        layers = new ModuleList<Linear>();
        for (int i = 0; i < n; i++) layers.Add(nn.Linear(d, d));
        gate = nn.Linear(d, d);
        this.useGate = useGate;
        this.residual = residual;
        this.scale = scale;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = x;
        for (int i = 0; i < layers.Count; i++)
        {
            var y = nn.functional.tanh(layers[i].call(h));
            if (i % 2 == 1) y = y * scale;
            h = residual ? h + y : y;
        }
        if (useGate)
            h = h * torch.sigmoid(gate.call(x));
        else
            h = -h;
        return h;
    }
}
