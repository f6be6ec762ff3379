using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Decoders;

// GPT-2's part of DecoderConfigReading, kept with the GPT-2 modules. The namespace stays Decoders: a partial class
// lives in one namespace, and DecoderConfigReading.Gpt2 is public API the family table and callers name.
public static partial class DecoderConfigReading
{
    /// <summary>GPT-2's keys (n_embd, n_head, n_layer, n_positions, layer_norm_epsilon, gelu_new).</summary>
    public static DecoderConfig Gpt2(ConfigReader c)
    {
        string act = c.GetString("activation_function", "gelu_new");
        if (act != "gelu_new")
            throw c.Unsupported($"activation_function '{act}' is not supported (gelu_new).");
        if (c.GetBool("scale_attn_by_inverse_layer_idx", false) || c.GetBool("reorder_and_upcast_attn", false))
            throw c.Unsupported("scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported.");
        if (!c.GetBool("scale_attn_weights", true))
            throw c.Unsupported("scale_attn_weights false is not supported.");
        int hidden = c.Size("n_embd", ConfigLimits.HiddenSize);
        int heads = c.Size("n_head", ConfigLimits.Heads);
        c.RequireMultiple("n_embd", hidden, "n_head", heads);
        return new DecoderConfig
        {
            ModelType = "gpt2",
            VocabSize = c.Size("vocab_size", ConfigLimits.VocabSize),
            HiddenSize = hidden,
            IntermediateSize = c.Size("n_inner", ConfigLimits.IntermediateSize, fallback: 4 * hidden),
            Layers = c.Size("n_layer", ConfigLimits.Layers),
            Heads = heads,
            KvHeads = heads,
            HeadDim = hidden / heads,
            MaxPositions = c.Size("n_positions", ConfigLimits.Positions),
            LayerNormEps = c.PositiveNumber("layer_norm_epsilon", 1e-5),
            TieWordEmbeddings = c.GetBool("tie_word_embeddings", true),
            HiddenAct = act,
        };
    }
}
