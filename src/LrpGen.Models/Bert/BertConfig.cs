using System.Text.Json;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Bert;

/// <summary>BERT's configuration (config.json of model_type "bert").</summary>
public sealed record BertConfig(int VocabSize, int HiddenSize, int Layers, int Heads, int IntermediateSize, int MaxPositions,
    int TypeVocabSize, double LayerNormEps, int Labels)
{
    /// <summary>Reads and checks config.json: every size within <see cref="ConfigLimits"/>, hidden_size a multiple
    /// of the heads, at least one label.</summary>
    public static BertConfig From(CheckpointFolder folder)
    {
        var c = folder.Values;
        if (folder.ModelType != "bert")
            throw c.Unsupported($"model_type '{folder.ModelType}' is not bert.");
        string act = c.GetString("hidden_act", "gelu");
        if (act != "gelu")
            throw c.Unsupported($"hidden_act '{act}' is not supported (gelu).");
        int labels = 2;
        if (c.Get("id2label") is { } map)
        {
            labels = map.ValueKind == JsonValueKind.Object ? CountProperties(map) : -1;
            if (labels < 1)
                throw c.Invalid("id2label", map.GetRawText(), "it must map at least one class index to a label");
        }
        int hidden = c.Size("hidden_size", ConfigLimits.HiddenSize);
        int heads = c.Size("num_attention_heads", ConfigLimits.Heads);
        c.RequireMultiple("hidden_size", hidden, "num_attention_heads", heads);
        return new BertConfig(c.Size("vocab_size", ConfigLimits.VocabSize), hidden, c.Size("num_hidden_layers", ConfigLimits.Layers),
            heads, c.Size("intermediate_size", ConfigLimits.IntermediateSize), c.Size("max_position_embeddings", ConfigLimits.Positions),
            c.Size("type_vocab_size", ConfigLimits.VocabSize, fallback: 2), c.PositiveNumber("layer_norm_eps", 1e-12), labels);
    }

    private static int CountProperties(JsonElement map)
    {
        int n = 0;
        foreach (var _ in map.EnumerateObject()) n++;
        return n;
    }
}
