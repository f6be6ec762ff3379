using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Tests.Scenarios;

/// <summary>Nested modules: token and position embeddings, a for loop over attention and MLP blocks, a head.
/// Token ids get relevance summed over the embedding dimension.</summary>
[LrpModule]
public partial class TinyLm : nn.Module<Tensor, Tensor>
{
    internal readonly Embedding tokens, positions;
    internal readonly ModuleList<GqaAttention> attentions;
    internal readonly ModuleList<ResidualBlock> mlps;
    internal readonly LayerNorm norm;
    internal readonly Linear head;

    public TinyLm(long vocab, long d, int layers) : base(nameof(TinyLm))
    {
        tokens = nn.Embedding(vocab, d);
        positions = nn.Embedding(32, d);
        attentions = new ModuleList<GqaAttention>();
        mlps = new ModuleList<ResidualBlock>();
        for (int i = 0; i < layers; i++)
        {
            attentions.Add(new GqaAttention(d, 4, 2));
            mlps.Add(new ResidualBlock(d, 2 * d));
        }
        norm = nn.LayerNorm(d);
        head = nn.Linear(d, vocab, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        long T = ids.shape[1];
        var positionIds = torch.arange(T, device: ids.device).unsqueeze(0);
        var h = tokens.call(ids) + positions.call(positionIds);
        for (int i = 0; i < attentions.Count; i++)
        {
            h = h + attentions[i].call(h);
            h = mlps[i].call(h);
        }
        return head.call(norm.call(h))[TensorIndex.Colon, -1];
    }
}
