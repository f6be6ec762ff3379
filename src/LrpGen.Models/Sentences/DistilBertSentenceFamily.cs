using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.Encoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>DistilBERT under a <see cref="SentenceHead"/>: positions 0..T-1, no token types.</summary>
public sealed class DistilBertSentenceFamily : ISentenceEncoder
{
    /// <summary>The registration of model_type "distilbert" in <see cref="SentenceEncoderFamilies"/>.</summary>
    public static SentenceEncoderFamily Family { get; } = new(DistilBertConfig.ModelType, FromCheckpoint);

    private DistilBertSentenceFamily(DistilBertSentenceEncoder model, DistilBertConfig config)
    {
        Model = model;
        Config = config;
    }

    public DistilBertSentenceEncoder Model { get; }
    public DistilBertConfig Config { get; }
    public nn.Module Module => Model;
    public int MaxTokens => Config.MaxPositions;
    public int HiddenSize => Config.HiddenSize;

    /// <summary>A Hugging Face DistilBERT folder (a bare model, or with the "distilbert." prefix): config.json's sizes,
    /// every encoder tensor checked and loaded (<see cref="DistilBertLoading"/>); the head's parameters ("head.") are
    /// not in the checkpoint and are left to the caller.</summary>
    public static ISentenceEncoder FromCheckpoint(CheckpointFolder checkpoint, SentenceHeadConfig head)
    {
        var config = DistilBertConfig.From(checkpoint);
        ShapeCheck.BeforeAllocating(checkpoint, ScalarType.Float32, meta => new DistilBertSentenceEncoder(config, head, meta),
            (shapes, assigner) => DistilBertLoading.Load(((DistilBertSentenceEncoder)shapes).encoder, assigner));
        var model = new DistilBertSentenceEncoder(config, head);
        try
        {
            DistilBertLoading.Load(model.encoder, new WeightAssigner(checkpoint, ScalarType.Float32));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return new DistilBertSentenceFamily(model, config);
    }

    public Tensor WordEmbeddings(Tensor ids)
    {
        using var noGrad = torch.no_grad();
        return Model.encoder.word_embeddings.forward(ids);
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

    private static Tensor Positions(EncoderBatch batch) => DistilBertEncoder.PositionIds(batch.AttentionMask);

    public void Dispose() => Model.Dispose();
}
