using LrpGen;
using LrpGen.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>A sentence-transformers model over RoBERTa / XLM-RoBERTa: <see cref="RobertaEncoder"/>, then
/// <see cref="SentenceHead"/> (pooling, optional Dense, L2 normalisation). Positions, mask and the head's token
/// weights and max mask are constants.</summary>
[LrpModule]
public partial class RobertaSentenceEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>, IPooledEncoder
{
    public readonly RobertaEncoder encoder;
    public readonly SentenceHead head;

    public RobertaSentenceEncoder(RobertaConfig c, SentenceHeadConfig headConfig, Device? device = null) : base(nameof(RobertaSentenceEncoder))
    {
        encoder = new RobertaEncoder(c, device);
        head = new SentenceHead(headConfig, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor mask,
        [NoRelevance] Tensor tokenWeights, [NoRelevance] Tensor maxMask)
    {
        var h = encoder.call(wordEmbeds, positionIds, mask);
        return head.call(h, tokenWeights, maxMask);
    }

    public SentenceHead Head => head;

    public Tensor EmbedWords(Tensor ids) => encoder.roberta.word_embeddings.forward(ids);

    public Tensor Hidden(Tensor wordEmbeds, Tensor positionIds, Tensor mask) => encoder.forward(wordEmbeds, positionIds, mask);

    public System.Collections.Generic.IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, Tensor positionIds, Tensor mask)
        => encoder.AttentionProbabilities(wordEmbeds, positionIds, mask);
}
