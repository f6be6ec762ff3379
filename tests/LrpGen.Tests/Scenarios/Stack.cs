using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>foreach over a ModuleList of [LrpModule] blocks.</summary>
[LrpModule]
public partial class BlockStack : nn.Module<Tensor, Tensor>
{
    internal readonly ModuleList<ResidualBlock> blocks;
    internal readonly LayerNorm final;

    public BlockStack(long d, long h, int layers) : base(nameof(BlockStack))
    {
        blocks = new ModuleList<ResidualBlock>();
        for (int i = 0; i < layers; i++) blocks.Add(new ResidualBlock(d, h));
        final = nn.LayerNorm(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = x;
        foreach (var block in blocks)
            h = block.call(h);
        return final.call(h);
    }
}
