using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Helper methods with rule attributes: a hand-written GELU under [IdentityNonlinearity], an epsilon
/// rule on a member and on a helper's linears.</summary>
[LrpModule]
public partial class HelperRules : nn.Module<Tensor, Tensor>
{
    [EpsilonRule(0.01)] internal readonly Linear fc1;
    internal readonly Linear fc2, fc3;

    public HelperRules(long d, long h) : base(nameof(HelperRules))
    {
        fc1 = nn.Linear(d, h);
        fc2 = nn.Linear(h, h);
        fc3 = nn.Linear(h, d);
        RegisterComponents();
    }

    [IdentityNonlinearity]
    internal static Tensor GeluNew(Tensor x) =>
        0.5 * x * (1.0 + torch.tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * torch.pow(x, 3.0))));

    [EpsilonRule(0.1)]
    private Tensor Project(Tensor h) => fc3.call(fc2.call(h));

    public override Tensor forward(Tensor x) => Project(GeluNew(fc1.call(x)));
}
