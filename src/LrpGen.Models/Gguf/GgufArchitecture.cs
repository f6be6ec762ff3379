using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace LrpGen.Models.Gguf;

/// <summary>What a Hugging Face config key is in GGUF metadata: <c>{arch}.{Suffix}</c>, an integer or a float,
/// required or optional.</summary>
public sealed record GgufConfigKey(string Suffix, string HfKey, bool IsInteger, bool Required);

/// <summary>One GGUF architecture seen as a Hugging Face family: the config keys it stores in metadata, its tensor
/// names (global and per block, <c>blk.N.{suffix}</c>) against Hugging Face's (<c>model.layers.N.{suffix}</c>), the
/// per-block tensors whose rows the usual HF-to-GGUF conversion permutes for llama.cpp's interleaved RoPE (and with
/// which head count), and stacked expert tensors ([experts, rows, cols] in one GGUF tensor, one tensor per expert in
/// Hugging Face's names, <c>{0}</c> the expert). Everything both directions need (reading and writing) is here.</summary>
public sealed record GgufArchitecture(
    string Name,
    string ModelType,
    IReadOnlyList<GgufConfigKey> ConfigKeys,
    IReadOnlyDictionary<string, string> Globals,
    IReadOnlyDictionary<string, string> PerBlock,
    IReadOnlyDictionary<string, string> RopePermuted,
    IReadOnlyDictionary<string, string> StackedExperts,
    IReadOnlyDictionary<string, object> FixedConfig)
{
    public const string HfBlockPrefix = "model.layers.";
    public const string GgufBlockPrefix = "blk.";

    /// <summary>What the stored norm weights exceed Hugging Face's by (Gemma: 1; llama.cpp's converter adds it so that
    /// its plain RMSNorm, which multiplies by the stored weight, computes Gemma's (1 + w)). Applies to every tensor
    /// whose Hugging Face name ends in "norm.weight".</summary>
    public double NormShift { get; init; }

    /// <summary>Config keys llama.cpp derives from others instead of reading them from metadata (Gemma's attention
    /// scale from the model size); runs on the config built from metadata.</summary>
    public Action<JsonObject>? DeriveConfig { get; init; }

    /// <summary>Per-block GGUF tensors every block must have (each entry: alternatives, the first named when all are
    /// missing): what llama.cpp's loader requires, checked when the file is opened so that a missing one is named in
    /// GGUF's terms.</summary>
    public IReadOnlyList<string[]> RequiredPerBlock { get; init; } = System.Array.Empty<string[]>();

    /// <summary>Global GGUF tensors the file must have besides the token embeddings (checked on opening, as
    /// <see cref="RequiredPerBlock"/>).</summary>
    public IReadOnlyList<string> RequiredGlobals { get; init; } = Array.Empty<string>();

    /// <summary>Metadata keys (suffixes after <c>{arch}.</c>) llama.cpp reads for this architecture but the Hugging Face
    /// family has no setting for, with why: a file that has one is refused rather than read as another model.</summary>
    public IReadOnlyDictionary<string, string> UnsupportedKeys { get; init; } = new Dictionary<string, string>();

    /// <summary>A metadata key (<c>{arch}.{SelectedBy}</c>) whose positive value picks this table over the plain one of
    /// the same GGUF name: llama.cpp stores Mixtral as "llama" and tells it apart by <c>llama.expert_count</c>.</summary>
    public string? SelectedBy { get; init; }

    /// <summary>Hugging Face names of a block's tensors that the converter reads as the table's (<c>{0}</c> the expert):
    /// Mixtral's Hub names (block_sparse_moe.gate, experts.{e}.w1/w3/w2) for the LLaMA layout's the table uses.</summary>
    public IReadOnlyDictionary<string, string> HfAliases { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether the architecture stores Phi-3's longrope: <c>rope_factors_long.weight</c> and
    /// <c>rope_factors_short.weight</c> with <c>{arch}.rope.scaling.attn_factor</c> and
    /// <c>{arch}.rope.scaling.original_context_length</c>.</summary>
    public bool LongRope { get; init; }

    /// <summary>Whether a Hugging Face tensor is a norm weight stored shifted by <see cref="NormShift"/>.</summary>
    public bool IsShiftedNorm(string hfName) => NormShift != 0 && hfName.EndsWith("norm.weight", StringComparison.Ordinal);
}
