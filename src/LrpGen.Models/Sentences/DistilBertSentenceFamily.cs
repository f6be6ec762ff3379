using LrpGen.Models.Encoders;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>DistilBERT under a <see cref="SentenceHead"/>: positions 0..T-1, no token types.</summary>
public sealed class DistilBertSentenceFamily : PooledEncoderFamily<DistilBertSentenceEncoder, DistilBertConfig>
{
    /// <summary>The registration of model_type "distilbert" in <see cref="SentenceEncoderFamilies"/>.</summary>
    public static SentenceEncoderFamily Family { get; } = new(DistilBertConfig.ModelType, FromCheckpoint);

    private DistilBertSentenceFamily(DistilBertSentenceEncoder model, DistilBertConfig config) : base(model, config) { }

    public override int MaxTokens => Config.MaxPositions;
    public override int HiddenSize => Config.HiddenSize;

    /// <summary>A Hugging Face DistilBERT folder (a bare model, or with the "distilbert." prefix): config.json's sizes,
    /// every encoder tensor checked and loaded (<see cref="DistilBertLoading"/>).</summary>
    public static ISentenceEncoder FromCheckpoint(CheckpointFolder checkpoint, SentenceHeadConfig head)
    {
        var config = DistilBertConfig.From(checkpoint);
        var model = LoadModel(checkpoint, device => new DistilBertSentenceEncoder(config, head, device),
            (m, assigner) => DistilBertLoading.Load(m.encoder, assigner));
        return new DistilBertSentenceFamily(model, config);
    }

    protected override Tensor Positions(EncoderBatch batch) => DistilBertEncoder.PositionIds(batch.AttentionMask);
}
