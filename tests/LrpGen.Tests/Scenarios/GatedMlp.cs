using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>SwiGLU: identity on SiLU, uniform on the gating product, epsilon on the linears.</summary>
[LrpModule]
public partial class GatedMlp : nn.Module<Tensor, Tensor>
{
    internal readonly Linear gate_proj, up_proj, down_proj;

    public GatedMlp(long d, long h) : base(nameof(GatedMlp))
    {
        gate_proj = nn.Linear(d, h, hasBias: false);
        up_proj = nn.Linear(d, h, hasBias: false);
        down_proj = nn.Linear(h, d, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var gate = nn.functional.silu(gate_proj.call(x));
        return down_proj.call(gate * up_proj.call(x));
    }
}
