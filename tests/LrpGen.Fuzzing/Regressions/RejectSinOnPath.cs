using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.RejectSinOnPath;

[LrpModule]
public partial class RejectSinOnPath : nn.Module<Tensor, Tensor>
{
    internal readonly Linear fc;

    public RejectSinOnPath() : base("RejectSinOnPath")
    {
        fc = nn.Linear(4, 4);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = torch.sin(fc.call(x)); // reject: no rule
        return fc.call(h);
    }
}
