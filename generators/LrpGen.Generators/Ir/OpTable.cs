using System.Collections.Generic;
using System.Linq;

namespace LrpGen.Generators.Ir;

/// <summary>Facts about each operation kind that both the lowering and the backward analysis read.</summary>
internal static class OpTable
{
    /// <summary>The inputs relevance flows into (masks, weights, indices and conditions never carry it).</summary>
    public static IEnumerable<T> RelevanceInputs<T>(OpKind kind, IReadOnlyList<T> inputs) => kind switch
    {
        OpKind.Constant or OpKind.Detach => Enumerable.Empty<T>(),
        OpKind.MaskedFill or OpKind.LinearFunctional or OpKind.LayerNorm or OpKind.Reshape or OpKind.Expand or OpKind.IndexSelect => inputs.Take(1),
        OpKind.Where => inputs.Skip(1),
        _ => inputs,
    };

    /// <summary>Outputs that are gates (CP-LRP treats a gate factor of a product as a constant).</summary>
    public static bool MakesGate(OpKind kind) => kind is OpKind.Softmax or OpKind.Activation or OpKind.CustomElementwise;

    /// <summary>Operations whose output is a gate when their first input is one (they only move or scale elements).</summary>
    public static bool KeepsGate(OpKind kind) => kind is OpKind.Identity or OpKind.Reshape or OpKind.Transpose or OpKind.Permute
        or OpKind.Expand or OpKind.RepeatInterleave or OpKind.Narrow or OpKind.Index or OpKind.Element or OpKind.Chunk or OpKind.ToDtype
        or OpKind.Scale or OpKind.Negate or OpKind.MaskedFill or OpKind.Select or OpKind.Triangle or OpKind.Selection;
}
