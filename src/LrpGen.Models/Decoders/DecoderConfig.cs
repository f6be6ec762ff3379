using System;
using System.Collections.Generic;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Decoders;

/// <summary>The configuration of a decoder family's module, read from config.json by the family's reader in
/// <see cref="DecoderFamilies"/>. Options a family lacks keep their neutral defaults.</summary>
public sealed record DecoderConfig
{
    public string ModelType { get; init; } = "";
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int Layers { get; init; }
    public int Heads { get; init; }
    public int KvHeads { get; init; }
    public int HeadDim { get; init; }
    public double RmsNormEps { get; init; }
    public double RopeTheta { get; init; }
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>The RoPE base of the sliding-window (local) layers when it differs from <see cref="RopeTheta"/>
    /// (Gemma 3's rope_local_base_freq); 0: every layer uses the global RoPE.</summary>
    public double LocalRopeTheta { get; init; }

    /// <summary>Biases on q, k, v and o (LLaMA's attention_bias).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Biases on q, k and v only (Qwen2).</summary>
    public bool QkvBias { get; init; }

    public bool MlpBias { get; init; }
    public bool TieWordEmbeddings { get; init; }

    /// <summary>An RMSNorm over each head's queries and keys before RoPE (Qwen3, Gemma 3).</summary>
    public bool QkNorm { get; init; }

    public int Experts { get; init; }
    public int ExpertsPerToken { get; init; }
    public int MoeIntermediateSize { get; init; }
    public bool NormTopkProb { get; init; }

    /// <summary>The gated MLP's activation: "silu" or "gelu_pytorch_tanh" (GPT-2: "gelu_new").</summary>
    public string HiddenAct { get; init; } = "silu";

    public int MaxPositions { get; init; }
    public double LayerNormEps { get; init; }

    /// <summary>Tokens a sliding-window layer sees, itself included (0: no sliding window).</summary>
    public int SlidingWindow { get; init; }

    /// <summary>Per layer, whether it attends through the sliding window (empty: no layer does).</summary>
    public IReadOnlyList<bool> SlidingLayers { get; init; } = Array.Empty<bool>();

    /// <summary>Gemma's RMSNorm: computed in float32 and scaled by (1 + weight).</summary>
    public bool NormUnitOffset { get; init; }

    /// <summary>Gemma: the embeddings are multiplied by sqrt(hidden_size), rounded to the model's dtype.</summary>
    public bool ScaleEmbeddings { get; init; }

    /// <summary>Attention scores are scaled by this to the power -1/2 (Gemma's query_pre_attn_scalar); 0: head_dim.</summary>
    public double QueryPreAttnScalar { get; init; }

    /// <summary>Gemma 2: scores become cap * tanh(scores / cap) before the mask (0: none).</summary>
    public double AttentionSoftcap { get; init; }

    /// <summary>Gemma 2: logits become cap * tanh(logits / cap) (0: none).</summary>
    public double FinalLogitSoftcap { get; init; }

    /// <summary>Reads and checks config.json with its family's reader (<see cref="DecoderFamilies"/>): every size within
    /// <see cref="ConfigLimits"/>, the head counts and dimensions consistent; a problem is a
    /// <see cref="CheckpointException"/> naming the key and its value.</summary>
    public static DecoderConfig From(CheckpointFolder folder) => DecoderFamilies.Of(folder).ReadConfig(folder.Values);

    /// <summary>Whether layer <paramref name="layer"/> attends through the sliding window.</summary>
    public bool IsSliding(int layer) => SlidingWindow > 0 && layer < SlidingLayers.Count && SlidingLayers[layer];

    /// <summary>Whether any layer attends through the sliding window (the inputs then carry its mask).</summary>
    public bool HasSlidingLayers
    {
        get
        {
            for (int i = 0; i < Layers; i++)
                if (IsSliding(i)) return true;
            return false;
        }
    }

    /// <summary>The score scale: query_pre_attn_scalar^-1/2 where given, else head_dim^-1/2.</summary>
    public double AttentionScaling => 1.0 / Math.Sqrt(QueryPreAttnScalar > 0 ? QueryPreAttnScalar : HeadDim);
}
