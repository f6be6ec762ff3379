using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.RejectCosOnPath;

[LrpModule]
public partial class RejectCosOnPath : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public RejectCosOnPath() : base("RejectCosOnPath")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = fc.call(x).cos(); // reject: no rule
        return fc.call(h);
    }
}
