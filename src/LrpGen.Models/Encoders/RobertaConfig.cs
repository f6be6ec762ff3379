using LrpGen.Models.Bert;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Encoders;

/// <summary>RoBERTa's and XLM-RoBERTa's configuration (config.json of model_type "roberta" or "xlm-roberta"). The
/// layers are BERT's; what differs is the embedding: positions count from <see cref="PadTokenId"/> + 1 over the
/// non-padding tokens, and there is a single token type.</summary>
public sealed record RobertaConfig(string ModelType, int VocabSize, int HiddenSize, int Layers, int Heads, int IntermediateSize,
    int MaxPositions, int TypeVocabSize, double LayerNormEps, int PadTokenId)
{
    /// <summary>The model types this configuration reads.</summary>
    public static readonly string[] ModelTypes = { "roberta", "xlm-roberta" };

    /// <summary>The longest input (special tokens included): positions start at <see cref="PadTokenId"/> + 1.</summary>
    public int MaxTokens => MaxPositions - PadTokenId - 1;

    /// <summary>The same sizes as a <see cref="BertConfig"/>, for the layers (which are BERT's).</summary>
    public BertConfig ToBertConfig() => new(VocabSize, HiddenSize, Layers, Heads, IntermediateSize, MaxPositions, TypeVocabSize,
        LayerNormEps, Labels: 0);

    public static RobertaConfig From(CheckpointFolder folder) => From(folder.Values);

    /// <summary>Reads and checks config.json: the model type, exact GELU, absolute positions, every size within
    /// <see cref="ConfigLimits"/>, hidden_size a multiple of the heads, and a pad_token_id that leaves room for a
    /// position. A missing required key is a one-line error naming the file and the key.</summary>
    public static RobertaConfig From(ConfigReader c)
    {
        string modelType = c.GetString("model_type", "");
        if (System.Array.IndexOf(ModelTypes, modelType) < 0)
            throw c.Unsupported($"model_type '{modelType}' is not roberta or xlm-roberta.");
        string act = c.GetString("hidden_act", "gelu");
        if (act != "gelu")
            throw c.Unsupported($"hidden_act '{act}' is not supported (gelu).");
        string positions = c.GetString("position_embedding_type", "absolute");
        if (positions != "absolute")
            throw c.Unsupported($"position_embedding_type '{positions}' is not supported (absolute).");
        int hidden = c.Size("hidden_size", ConfigLimits.HiddenSize);
        int heads = c.Size("num_attention_heads", ConfigLimits.Heads);
        c.RequireMultiple("hidden_size", hidden, "num_attention_heads", heads);
        int maxPositions = c.Size("max_position_embeddings", ConfigLimits.Positions);
        // Required, not defaulted: the positions depend on it, and a wrong guess shifts every position silently.
        int pad = c.GetInt("pad_token_id");
        if (pad < 0 || pad + 1 >= maxPositions)
            throw c.Invalid("pad_token_id", pad.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"positions start after it, so it must be from 0 to max_position_embeddings - 2 ({maxPositions - 2})");
        int vocab = c.Size("vocab_size", ConfigLimits.VocabSize);
        if (pad >= vocab)
            throw c.Invalid("pad_token_id", pad.ToString(System.Globalization.CultureInfo.InvariantCulture), $"it must be a token id below vocab_size ({vocab})");
        return new RobertaConfig(modelType, vocab, hidden, c.Size("num_hidden_layers", ConfigLimits.Layers), heads,
            c.Size("intermediate_size", ConfigLimits.IntermediateSize), maxPositions,
            c.Size("type_vocab_size", ConfigLimits.VocabSize, fallback: 1), c.PositiveNumber("layer_norm_eps", 1e-5), pad);
    }
}
