using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.Bert;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Encoders;

/// <summary>A RoBERTa / XLM-RoBERTa encoder: BERT's embeddings and post-LN layers (<see cref="BertEncoder"/>) with
/// every token of token type 0, and positions that <see cref="PositionIds"/> computes as Hugging Face does.
/// Forward takes the word embeddings (relevance is reported there) and returns the last hidden states.</summary>
[LrpModule]
public partial class RobertaEncoder : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly BertEncoder roberta;

    public RobertaEncoder(RobertaConfig c, Device? device = null) : base(nameof(RobertaEncoder))
    {
        Config = c;
        roberta = new BertEncoder(c.ToBertConfig(), device);
        RegisterComponents();
    }

    public RobertaConfig Config { get; }

    /// <summary>Hugging Face's create_position_ids_from_input_ids: a real token's position is padding_idx + 1 + the
    /// number of real tokens before it; a padding token's is padding_idx. <paramref name="ids"/> [B, T].</summary>
    public static Tensor PositionIds(Tensor ids, long padTokenId)
    {
        using var real = ids.ne(padTokenId);
        return PositionIdsFromMask(real, padTokenId);
    }

    /// <summary>The same positions from an attention mask [B, T] (nonzero = token): padding_idx + the running count of
    /// tokens on a token, padding_idx on padding. For batches whose padding id is not the model's.</summary>
    public static Tensor PositionIdsFromMask(Tensor attentionMask, long padTokenId)
    {
        using var scope = torch.NewDisposeScope();
        var real = attentionMask.ne(0).to(ScalarType.Int64);
        return real.cumsum(1).mul(real).add(padTokenId).MoveToOuterDisposeScope();
    }

    /// <summary>Each layer's attention probabilities [B, heads, T, T], in layer order (for attention rollout).</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, Tensor positionIds, Tensor mask)
    {
        using var tokenTypes = torch.zeros_like(positionIds);
        return roberta.AttentionProbabilities(wordEmbeds, positionIds, tokenTypes, mask);
    }

    public override Tensor forward(Tensor wordEmbeds, [NoRelevance] Tensor positionIds, [NoRelevance] Tensor mask)
    {
        var tokenTypes = torch.zeros_like(positionIds);
        return roberta.call(wordEmbeds, positionIds, tokenTypes, mask);
    }
}
