using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>A Conv2d patch embedding and a Sequential head whose children (one an [LrpModule]) are dispatched at run time.</summary>
[LrpModule]
public partial class ConvStack : nn.Module<Tensor, Tensor>
{
    internal readonly Conv2d patch;
    internal readonly Sequential head;
    internal readonly GatedMlp mlp;

    public ConvStack() : base(nameof(ConvStack))
    {
        patch = nn.Conv2d(3, 8, kernel_size: 3, stride: 2, padding: 1);
        mlp = new GatedMlp(8, 12);
        head = nn.Sequential(("fc", nn.Linear(8, 8)), ("act", nn.GELU()), ("norm", nn.LayerNorm(8)), ("mlp", mlp), ("drop", nn.Dropout(0.1)), ("out", nn.Linear(8, 5)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixels)
    {
        var tokens = patch.call(pixels).flatten(2).transpose(1, 2);
        return head.call(tokens).mean(new long[] { 1 });
    }
}
