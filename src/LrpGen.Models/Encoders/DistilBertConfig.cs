using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Encoders;

/// <summary>DistilBERT's configuration (config.json of model_type "distilbert", in its own key names: dim, n_layers,
/// n_heads, hidden_dim). Hugging Face's DistilBERT fixes the LayerNorm epsilon at 1e-12 and has no token types.</summary>
public sealed record DistilBertConfig(int VocabSize, int HiddenSize, int Layers, int Heads, int IntermediateSize, int MaxPositions)
{
    /// <summary>The epsilon of every DistilBERT LayerNorm (a constant in transformers, not a config key).</summary>
    public const double LayerNormEps = 1e-12;

    public const string ModelType = "distilbert";

    public static DistilBertConfig From(CheckpointFolder folder) => From(folder.Values);

    /// <summary>Reads and checks config.json: the model type, exact GELU, every size within <see cref="ConfigLimits"/>,
    /// dim a multiple of n_heads. A missing required key is a one-line error naming the file and the key.</summary>
    public static DistilBertConfig From(ConfigReader c)
    {
        string modelType = c.GetString("model_type", "");
        if (modelType != ModelType)
            throw c.Unsupported($"model_type '{modelType}' is not distilbert.");
        string act = c.GetString("activation", "gelu");
        if (act != "gelu")
            throw c.Unsupported($"activation '{act}' is not supported (gelu).");
        int hidden = c.Size("dim", ConfigLimits.HiddenSize);
        int heads = c.Size("n_heads", ConfigLimits.Heads);
        c.RequireMultiple("dim", hidden, "n_heads", heads);
        return new DistilBertConfig(c.Size("vocab_size", ConfigLimits.VocabSize), hidden, c.Size("n_layers", ConfigLimits.Layers), heads,
            c.Size("hidden_dim", ConfigLimits.IntermediateSize), c.Size("max_position_embeddings", ConfigLimits.Positions));
    }
}
