using LrpGen;
using LrpGen.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>A sentence-transformers model over DistilBERT: <see cref="DistilBertEncoder"/>, then
/// <see cref="SentenceHead"/> (pooling, optional Dense, L2 normalisation). Positions, mask and the head's token
/// weights and max mask are constants.</summary>
[LrpModule]
public partial class DistilBertSentenceEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
{
    public readonly DistilBertEncoder encoder;
    public readonly SentenceHead head;

    public DistilBertSentenceEncoder(DistilBertConfig c, SentenceHeadConfig headConfig, Device? device = null) : base(nameof(DistilBertSentenceEncoder))
    {
        encoder = new DistilBertEncoder(c, device);
        head = new SentenceHead(headConfig, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor mask,
        [NoRelevance] Tensor tokenWeights, [NoRelevance] Tensor maxMask)
    {
        var h = encoder.call(wordEmbeds, positionIds, mask);
        return head.call(h, tokenWeights, maxMask);
    }
}
