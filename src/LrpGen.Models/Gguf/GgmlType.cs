using System.Collections.Generic;
using System.Linq;

namespace LrpGen.Models.Gguf;

/// <summary>ggml's tensor types, numbered as in ggml.h (the numbers are what a GGUF file stores).</summary>
public enum GgmlType : uint
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
}

/// <summary>How a ggml type packs values: <c>BlockSize</c> values in <c>BlockBytes</c> bytes (1 and the element size
/// for plain types). Only the types this reader decodes are listed; the sizes are those of ggml's block structs.</summary>
public static class GgmlTypes
{
    private static readonly Dictionary<GgmlType, (int BlockSize, int BlockBytes)> Layouts = new()
    {
        [GgmlType.F32] = (1, 4),
        [GgmlType.F16] = (1, 2),
        [GgmlType.BF16] = (1, 2),
        [GgmlType.Q4_0] = (32, 2 + 16),
        [GgmlType.Q4_1] = (32, 2 + 2 + 16),
        [GgmlType.Q5_0] = (32, 2 + 4 + 16),
        [GgmlType.Q5_1] = (32, 2 + 2 + 4 + 16),
        [GgmlType.Q8_0] = (32, 2 + 32),
        [GgmlType.Q4_K] = (256, 2 + 2 + 12 + 128),
        [GgmlType.Q5_K] = (256, 2 + 2 + 12 + 32 + 128),
        [GgmlType.Q6_K] = (256, 128 + 64 + 16 + 2),
    };

    /// <summary>"F32, F16, BF16, Q4_0, ..." for messages.</summary>
    public static string Supported { get; } = string.Join(", ", Layouts.Keys.Select(t => t.ToString()));

    public static bool IsSupported(GgmlType type) => Layouts.ContainsKey(type);

    /// <summary>The type's name as ggml spells it, or its number when this reader does not know it.</summary>
    public static string NameOf(GgmlType type) =>
        System.Enum.IsDefined(type) ? type.ToString() : $"type {(uint)type}";

    public static (int BlockSize, int BlockBytes) LayoutOf(GgmlType type) => Layouts[type];
}
