using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Bert;

/// <summary>BERT's configuration (config.json of model_type "bert").</summary>
public sealed record BertConfig(int VocabSize, int HiddenSize, int Layers, int Heads, int IntermediateSize, int MaxPositions,
    int TypeVocabSize, double LayerNormEps, int Labels)
{
    public static BertConfig From(CheckpointFolder folder)
    {
        if (folder.ModelType != "bert")
            throw new CheckpointException($"{folder.ConfigPath}: model_type '{folder.ModelType}' is not bert.", folder.ConfigPath);
        string act = folder.Get("hidden_act")?.GetString() ?? "gelu";
        if (act != "gelu")
            throw new CheckpointException($"{folder.ConfigPath}: hidden_act '{act}' is not supported (gelu).", folder.ConfigPath);
        int labels = folder.Get("id2label") is { ValueKind: System.Text.Json.JsonValueKind.Object } map ? CountProperties(map) : 2;
        return new BertConfig(folder.GetInt("vocab_size"), folder.GetInt("hidden_size"), folder.GetInt("num_hidden_layers"),
            folder.GetInt("num_attention_heads"), folder.GetInt("intermediate_size"), folder.GetInt("max_position_embeddings"),
            folder.GetOptionalInt("type_vocab_size") ?? 2, folder.GetOptionalDouble("layer_norm_eps") ?? 1e-12, labels);
    }

    private static int CountProperties(System.Text.Json.JsonElement map)
    {
        int n = 0;
        foreach (var _ in map.EnumerateObject()) n++;
        return n;
    }
}
