using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>torch.erf and Tensor.erf between Linears: the identity rule (an element-wise function).</summary>
[LrpModule]
public partial class ErfMlp : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc1, fc2;

    public ErfMlp(long d, long h) : base(nameof(ErfMlp))
    {
        fc1 = nn.Linear(d, h);
        fc2 = nn.Linear(h, d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.call(torch.erf(fc1.call(x)).erf());
}
