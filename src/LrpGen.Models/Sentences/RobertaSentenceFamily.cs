using LrpGen.Models.Encoders;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>RoBERTa and XLM-RoBERTa under a <see cref="SentenceHead"/>: positions pad_token_id + 1 + the running count of
/// tokens (pad_token_id on padding) from the attention mask, so whatever id pads the batch the positions are
/// Hugging Face's; one token type.</summary>
public sealed class RobertaSentenceFamily : PooledEncoderFamily<RobertaSentenceEncoder, RobertaConfig>
{
    /// <summary>The registrations of model_type "roberta" and "xlm-roberta" in <see cref="SentenceEncoderFamilies"/>.</summary>
    public static SentenceEncoderFamily Roberta { get; } = new("roberta", FromCheckpoint);

    /// <inheritdoc cref="Roberta"/>
    public static SentenceEncoderFamily XlmRoberta { get; } = new("xlm-roberta", FromCheckpoint);

    private RobertaSentenceFamily(RobertaSentenceEncoder model, RobertaConfig config) : base(model, config) { }

    public override int MaxTokens => Config.MaxTokens;
    public override int HiddenSize => Config.HiddenSize;

    /// <summary>A Hugging Face RoBERTa / XLM-R folder (a bare model, or with the "roberta." prefix): config.json's
    /// sizes and pad_token_id, every encoder tensor checked and loaded (<see cref="RobertaLoading"/>).</summary>
    public static ISentenceEncoder FromCheckpoint(CheckpointFolder checkpoint, SentenceHeadConfig head)
    {
        var config = RobertaConfig.From(checkpoint);
        var model = LoadModel(checkpoint, device => new RobertaSentenceEncoder(config, head, device),
            (m, assigner) => RobertaLoading.Load(m.encoder, assigner));
        return new RobertaSentenceFamily(model, config);
    }

    protected override Tensor Positions(EncoderBatch batch) => RobertaEncoder.PositionIdsFromMask(batch.AttentionMask, Config.PadTokenId);
}
