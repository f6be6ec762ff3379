using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>sentence-transformers' optional Dense module (2_Dense): a Linear layer and its activation (Tanh, the
/// library's default, or none).</summary>
public sealed record DenseLayerConfig(int InFeatures, int OutFeatures, bool Bias, bool Tanh);

/// <summary>What follows the encoder: pooling over the tokens, an optional Dense layer, L2 normalisation.</summary>
public sealed record SentenceHeadConfig(PoolingMode Pooling, DenseLayerConfig? Dense = null)
{
    /// <summary>The size of the sentence embedding for an encoder of this hidden size.</summary>
    public int EmbeddingSize(int hidden) => Dense?.OutFeatures ?? hidden;
}

/// <summary>Pooling, optional Dense, and L2 normalisation after an encoder, for every encoder family. CLS, mean and
/// last-token pooling are one weighted sum over the tokens whose weights are constants (<see cref="EncoderBatch"/>
/// builds them from the attention mask): one-hot at the first or last real token, or 1/n over the n real tokens.
/// Max pooling takes the maximum over the tokens after adding the constant max mask (0 on real tokens, -1e9 on
/// padding, as sentence-transformers sets padded states), relevance going to the selected token. The normalisation
/// gets the norm-identity rule, Tanh the identity rule.</summary>
[LrpModule]
public partial class SentenceHead : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly Linear? dense;
    private readonly bool maxPooling, hasDense, tanh;

    public SentenceHead(SentenceHeadConfig c, Device? device = null) : base(nameof(SentenceHead))
    {
        maxPooling = c.Pooling == PoolingMode.Max;
        hasDense = c.Dense is not null;
        tanh = c.Dense is { Tanh: true };
        if (c.Dense is { } d)
            dense = nn.Linear(d.InFeatures, d.OutFeatures, hasBias: d.Bias, device: device);
        RegisterComponents();
    }

    /// <summary>Pooling and the Dense layer: the embedding before normalisation. Forward inlines it.</summary>
    private Tensor Pooled(Tensor h, Tensor tokenWeights, Tensor maxMask)
    {
        var pooled = maxPooling
            ? (h + maxMask.unsqueeze(-1)).max(1).values
            : (h * tokenWeights.unsqueeze(-1)).sum(new long[] { 1 });
        var projected = hasDense ? dense!.call(pooled) : pooled;
        return tanh ? torch.tanh(projected) : projected;
    }

    /// <summary>The embedding before L2 normalisation (for models without a Normalize module). Plain TorchSharp.</summary>
    public Tensor Unnormalized(Tensor h, Tensor tokenWeights, Tensor maxMask)
    {
        using var scope = torch.NewDisposeScope();
        return Pooled(h, tokenWeights, maxMask).MoveToOuterDisposeScope();
    }

    [NormIdentity]
    private static Tensor L2Normalize(Tensor x) => x * torch.rsqrt(x.pow(2).sum(new long[] { -1 }, keepdim: true) + 1e-24);

    public override Tensor forward(Tensor h, [NoRelevance] Tensor tokenWeights, [NoRelevance] Tensor maxMask) =>
        L2Normalize(Pooled(h, tokenWeights, maxMask));
}
