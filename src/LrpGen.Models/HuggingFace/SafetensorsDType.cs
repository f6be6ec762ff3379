using System;
using System.Linq;
using TorchSharp;

namespace LrpGen.Models.HuggingFace;

/// <summary>The safetensors dtype names this reader supports and their TorchSharp types and element sizes.
/// The format also knows U16/U32/U64 and the F8 types, which TorchSharp 0.107 has no ScalarType for.</summary>
internal static class SafetensorsDType
{
    private static readonly (string Name, torch.ScalarType Type, int Size)[] Table =
    {
        ("F64", torch.ScalarType.Float64, 8),
        ("F32", torch.ScalarType.Float32, 4),
        ("F16", torch.ScalarType.Float16, 2),
        ("BF16", torch.ScalarType.BFloat16, 2),
        ("I64", torch.ScalarType.Int64, 8),
        ("I32", torch.ScalarType.Int32, 4),
        ("I16", torch.ScalarType.Int16, 2),
        ("I8", torch.ScalarType.Int8, 1),
        ("U8", torch.ScalarType.Byte, 1),
        ("BOOL", torch.ScalarType.Bool, 1),
    };

    /// <summary>"F64, F32, ..." for error messages.</summary>
    public static string Supported { get; } = string.Join(", ", Table.Select(row => row.Name));

    public static bool TryParse(string name, out torch.ScalarType type, out int size)
    {
        foreach (var row in Table)
        {
            // Case-sensitive on purpose: the format spells dtypes in upper case.
            if (row.Name == name) { type = row.Type; size = row.Size; return true; }
        }
        type = default; size = 0;
        return false;
    }

    public static bool TryGetName(torch.ScalarType type, out string name, out int size)
    {
        foreach (var row in Table)
        {
            if (row.Type == type) { name = row.Name; size = row.Size; return true; }
        }
        name = ""; size = 0;
        return false;
    }

    public static string NameOf(torch.ScalarType type) =>
        TryGetName(type, out var name, out _) ? name : type.ToString();
}
