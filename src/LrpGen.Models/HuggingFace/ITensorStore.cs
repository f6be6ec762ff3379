using System.Collections.Generic;
using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

/// <summary>Named tensors that a <see cref="CheckpointFolder"/> reads under Hugging Face names: a safetensors file,
/// or a GGUF file whose tensors are renamed and reshaped into Hugging Face's layout (<c>Gguf/GgufCheckpoint</c>).</summary>
public interface ITensorStore
{
    /// <summary>The file that messages about these tensors name.</summary>
    string FilePath { get; }

    IReadOnlyCollection<string> TensorNames { get; }

    long[] Shape(string name);

    /// <summary>The type the stored values decode to (a quantized GGUF tensor: float32).</summary>
    ScalarType StoredType(string name);

    /// <summary>A new CPU tensor in <paramref name="dtype"/> (null: <see cref="StoredType"/>); the caller disposes it.</summary>
    Tensor Load(string name, ScalarType? dtype);

    /// <summary>The tensor's name as messages give it: quoted, with the stored tensor it is read from where that has
    /// another name (a GGUF tensor).</summary>
    string Describe(string name) => $"'{name}'";
}
