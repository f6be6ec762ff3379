using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>A gate times a factor that broadcasts over the gate's last dimension: the tape cannot keep the gate
/// chain's product in advance (the gate's share is summed over the broadcast dimension), so the general product
/// step runs (LrpGen.Rules.GateChainRule.Fold declines).</summary>
[LrpModule]
public partial class BroadcastGatedMlp : nn.Module<Tensor, Tensor>
{
    internal readonly Linear gate_proj, up_proj, down_proj;

    public BroadcastGatedMlp(long d, long h) : base(nameof(BroadcastGatedMlp))
    {
        gate_proj = nn.Linear(d, 1, hasBias: false);
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
