using System.Collections.Generic;
using LrpGen;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>An annotated encoder-plus-<see cref="SentenceHead"/> whose inputs are word embeddings, position ids and
/// the additive mask (no token types): what <see cref="PooledEncoderFamily{TModel, TConfig}"/> drives. The generator
/// writes <c>LrpForward</c>; the rest reads the encoder.</summary>
public interface IPooledEncoder
{
    /// <summary>The pooling head on top of the encoder.</summary>
    SentenceHead Head { get; }

    /// <summary>The generated relevance forward.</summary>
    LrpPass LrpForward(Tensor wordEmbeds, Tensor positionIds, Tensor mask, Tensor tokenWeights, Tensor maxMask, LrpOptions options);

    /// <summary>The plain forward (pooled, normalised as the head says).</summary>
    Tensor forward(Tensor wordEmbeds, Tensor positionIds, Tensor mask, Tensor tokenWeights, Tensor maxMask);

    /// <summary>The word embeddings of token ids [B, T].</summary>
    Tensor EmbedWords(Tensor ids);

    /// <summary>The encoder's hidden states [B, T, hidden].</summary>
    Tensor Hidden(Tensor wordEmbeds, Tensor positionIds, Tensor mask);

    /// <summary>Each layer's attention probabilities [B, heads, T, T].</summary>
    IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, Tensor positionIds, Tensor mask);
}

/// <summary>The part of <see cref="ISentenceEncoder"/> that every family without token types shares: a family says
/// only how it loads and how it numbers positions.</summary>
public abstract class PooledEncoderFamily<TModel, TConfig> : ISentenceEncoder
    where TModel : nn.Module, IPooledEncoder
{
    protected PooledEncoderFamily(TModel model, TConfig config)
    {
        Model = model;
        Config = config;
    }

    public TModel Model { get; }
    public TConfig Config { get; }
    public nn.Module Module => Model;
    public abstract int MaxTokens { get; }
    public abstract int HiddenSize { get; }

    /// <summary>Position ids [B, T] of a padded batch, as the family's Hugging Face model numbers them.</summary>
    protected abstract Tensor Positions(EncoderBatch batch);

    public Tensor WordEmbeddings(Tensor ids)
    {
        using var noGrad = torch.no_grad();
        return Model.EmbedWords(ids);
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
        using var hidden = Model.Hidden(wordEmbeds, positions, batch.AdditiveMask);
        return Model.Head.Unnormalized(hidden, batch.TokenWeights, batch.MaxMask);
    }

    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, EncoderBatch batch)
    {
        using var positions = Positions(batch);
        return Model.AttentionProbabilities(wordEmbeds, positions, batch.AdditiveMask);
    }

    /// <summary>Loads a family's model from a checkpoint: shapes checked before allocating, then every encoder tensor
    /// assigned; the head's parameters ("head.") are not in the checkpoint and are left to the caller.</summary>
    protected static TModel LoadModel(HuggingFace.CheckpointFolder checkpoint, System.Func<Device?, TModel> create,
        System.Action<TModel, HuggingFace.WeightAssigner> load)
    {
        HuggingFace.ShapeCheck.BeforeAllocating(checkpoint, ScalarType.Float32, meta => create(meta), (shapes, assigner) => load((TModel)shapes, assigner));
        var model = create(null);
        try
        {
            load(model, new HuggingFace.WeightAssigner(checkpoint, ScalarType.Float32));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return model;
    }

    public void Dispose() => Model.Dispose();
}
