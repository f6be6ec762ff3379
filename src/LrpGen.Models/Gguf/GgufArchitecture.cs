using System.Collections.Generic;

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
}
