using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.Encoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>RoBERTa and XLM-RoBERTa under a <see cref="SentenceHead"/>: positions pad_token_id + 1 + the running count of
/// tokens (pad_token_id on padding) from the attention mask, so whatever id pads the batch the positions are
/// Hugging Face's; one token type.</summary>
public sealed class RobertaSentenceFamily : ISentenceEncoder
{
    /// <summary>The registrations of model_type "roberta" and "xlm-roberta" in <see cref="SentenceEncoderFamilies"/>.</summary>
    public static SentenceEncoderFamily Roberta { get; } = new("roberta", FromCheckpoint);

    /// <inheritdoc cref="Roberta"/>
    public static SentenceEncoderFamily XlmRoberta { get; } = new("xlm-roberta", FromCheckpoint);

    private RobertaSentenceFamily(RobertaSentenceEncoder model, RobertaConfig config)
    {
        Model = model;
        Config = config;
    }

    public RobertaSentenceEncoder Model { get; }
    public RobertaConfig Config { get; }
    public nn.Module Module => Model;
    public int MaxTokens => Config.MaxTokens;
    public int HiddenSize => Config.HiddenSize;

    /// <summary>A Hugging Face RoBERTa / XLM-R folder (a bare model, or with the "roberta." prefix): config.json's
    /// sizes and pad_token_id, every encoder tensor checked and loaded (<see cref="RobertaLoading"/>); the head's
    /// parameters ("head.") are not in the checkpoint and are left to the caller.</summary>
    public static ISentenceEncoder FromCheckpoint(CheckpointFolder checkpoint, SentenceHeadConfig head)
    {
        var config = RobertaConfig.From(checkpoint);
        ShapeCheck.BeforeAllocating(checkpoint, ScalarType.Float32, meta => new RobertaSentenceEncoder(config, head, meta),
            (shapes, assigner) => RobertaLoading.Load(((RobertaSentenceEncoder)shapes).encoder, assigner));
        var model = new RobertaSentenceEncoder(config, head);
        try
        {
            RobertaLoading.Load(model.encoder, new WeightAssigner(checkpoint, ScalarType.Float32));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return new RobertaSentenceFamily(model, config);
    }

    public Tensor WordEmbeddings(Tensor ids)
    {
        using var noGrad = torch.no_grad();
        return Model.encoder.roberta.word_embeddings.forward(ids);
    }

    public LrpPass LrpForward(Tensor wordEmbeds, EncoderBatch batch, LrpOptions options)
    {
        using var positions = Positions(batch);
        using (torch.no_grad())
            return Model.LrpForward(wordEmbeds, positions, batch.AdditiveMask, batch.TokenWeights, batch.MaxMask, options);
    }

    public Tensor Forward(Tensor wordEmbeds, EncoderBatch batch)
    {
        using var positions = Positions(batch);
        return Model.forward(wordEmbeds, positions, batch.AdditiveMask, batch.TokenWeights, batch.MaxMask);
    }

    public Tensor ForwardUnnormalized(Tensor wordEmbeds, EncoderBatch batch)
    {
        using var positions = Positions(batch);
        using var hidden = Model.encoder.forward(wordEmbeds, positions, batch.AdditiveMask);
        return Model.head.Unnormalized(hidden, batch.TokenWeights, batch.MaxMask);
    }

    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, EncoderBatch batch)
    {
        using var positions = Positions(batch);
        return Model.encoder.AttentionProbabilities(wordEmbeds, positions, batch.AdditiveMask);
    }

    private Tensor Positions(EncoderBatch batch) => RobertaEncoder.PositionIdsFromMask(batch.AttentionMask, Config.PadTokenId);

    public void Dispose() => Model.Dispose();
}
