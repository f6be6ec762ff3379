using LrpGen;
using LrpGen.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>A sentence-transformers model over RoBERTa / XLM-RoBERTa: <see cref="RobertaEncoder"/>, then
/// <see cref="SentenceHead"/> (pooling, optional Dense, L2 normalisation). Positions, mask and the head's token
/// weights and max mask are constants.</summary>
[LrpModule]
public partial class RobertaSentenceEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>
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
}
