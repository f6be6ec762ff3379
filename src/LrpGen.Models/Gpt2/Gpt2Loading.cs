using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Gpt2;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

// GPT-2's parts of CheckpointNames (Hugging Face's tensor names) and DecoderModule (the built module), kept with the
// GPT-2 modules. The namespace stays Decoders: a partial type lives in one namespace, and CheckpointNames.Gpt2 and
// DecoderModule.Gpt2 are public API the family table and callers name.
public sealed partial record CheckpointNames
{
    /// <summary>GPT-2: "transformer.h.0.attn.c_attn.weight"; Conv1D weights are stored [in, out].</summary>
    public static CheckpointNames Gpt2 { get; } = new(Gpt2Sources, new[] { "attn.bias", "attn.masked_bias" });

    private static IReadOnlyList<WeightSource> Gpt2Sources(string name, DecoderConfig config)
    {
        var parts = name.Split('.');
        if (name == "lm_head.weight")
            return config.TieWordEmbeddings
                ? new[] { new WeightSource(name), new WeightSource("transformer.wte.weight") }
                : new[] { new WeightSource(name) };
        if (parts[0] != "layers") return new[] { new WeightSource("transformer." + name) };
        string block = $"transformer.h.{parts[1]}.";
        string hf = parts[2] switch
        {
            "c_attn" => block + "attn.c_attn." + parts[3],
            "attn_proj" => block + "attn.c_proj." + parts[3],
            "c_fc" => block + "mlp.c_fc." + parts[3],
            "mlp_proj" => block + "mlp.c_proj." + parts[3],
            _ => block + string.Join(".", parts.Skip(2)),
        };
        bool conv1d = parts[3] == "weight" && parts[2] is "c_attn" or "attn_proj" or "c_fc" or "mlp_proj";
        return new[] { conv1d ? new WeightSource(hf, Transposed: true, Layout: "the Conv1D layout") : new WeightSource(hf) };
    }
}

public sealed partial record DecoderModule
{
    /// <summary>Gpt2LMHeadModel (learned positions, no RoPE).</summary>
    public static DecoderModule Gpt2(DecoderConfig config, Device? device)
    {
        var m = new Gpt2LMHeadModel(config, device);
        return new DecoderModule(m, m.wte,
            (e, i, o) => m.LrpForward(e, i.Positions, i.Mask, i.Rows, o),
            (e, i) => m.forward(e, i.Positions, i.Mask, i.Rows),
            null, Rotary: false);
    }
}
