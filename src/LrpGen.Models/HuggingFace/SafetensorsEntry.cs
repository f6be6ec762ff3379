using TorchSharp;

namespace LrpGen.Models.HuggingFace;

/// <summary>One tensor's header entry: where its bytes lie relative to the start of the data section.</summary>
internal sealed record SafetensorsEntry(string Name, torch.ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;

    /// <summary>"[96, 64]": the way shapes appear in every message of this namespace.</summary>
    public static string FormatShape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
