using System;
using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace QuickStart;

/// <summary>A pre-norm transformer block: causal self-attention and a SwiGLU MLP, with residuals.</summary>
[LrpModule]
public partial class Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly Linear q, k, v, o, gate, up, down;
    private readonly long heads, headDim;

    public Block(long dim, long heads) : base(nameof(Block))
    {
        this.heads = heads;
        headDim = dim / heads;
        norm1 = nn.LayerNorm(dim);
        norm2 = nn.LayerNorm(dim);
        q = nn.Linear(dim, dim, hasBias: false);
        k = nn.Linear(dim, dim, hasBias: false);
        v = nn.Linear(dim, dim, hasBias: false);
        o = nn.Linear(dim, dim, hasBias: false);
        gate = nn.Linear(dim, 4 * dim, hasBias: false);
        up = nn.Linear(dim, 4 * dim, hasBias: false);
        down = nn.Linear(4 * dim, dim, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long B = x.shape[0], T = x.shape[1];
        var h = norm1.call(x);
        var queries = q.call(h).view(B, T, heads, headDim).transpose(1, 2);
        var keys = k.call(h).view(B, T, heads, headDim).transpose(1, 2);
        var values = v.call(h).view(B, T, heads, headDim).transpose(1, 2);
        var causal = torch.ones(T, T, dtype: x.dtype).triu(1) * -1e9;
        var scores = queries.matmul(keys.transpose(-2, -1)) / Math.Sqrt(headDim) + causal;
        var attended = scores.softmax(-1).matmul(values).transpose(1, 2).reshape(B, T, -1);
        x = x + o.call(attended);
        var g = norm2.call(x);
        return x + down.call(nn.functional.silu(gate.call(g)) * up.call(g));
    }
}

/// <summary>Embeddings, a stack of blocks and a language-model head; explains next-token logits.</summary>
[LrpModule]
public partial class TinyDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;

    public TinyDecoder(long vocab, long dim, long heads, int layers) : base(nameof(TinyDecoder))
    {
        embed = nn.Embedding(vocab, dim);
        blocks = new ModuleList<Block>();
        for (int i = 0; i < layers; i++) blocks.Add(new Block(dim, heads));
        norm = nn.LayerNorm(dim);
        head = nn.Linear(dim, vocab, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor ids)
    {
        var h = embed.call(ids);
        foreach (var block in blocks)
            h = block.call(h);
        // Logits of the next token after the last position.
        return head.call(norm.call(h))[TensorIndex.Colon, -1];
    }
}
