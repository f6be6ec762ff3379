using System;
using System.Collections.Generic;

namespace LrpGen.Generators.Parse;

/// <summary>TorchSharp functions grouped by what relevance does at them, for the ones that need no rule of their own.
/// Every other function is lowered by its entry in ForwardLowerer.Calls.cs, or, if it has none, is a constant off the
/// relevance path and LRP003 on it.</summary>
internal static class TorchFunctions
{
    /// <summary>Results that depend on their tensor arguments' shape, dtype or device only (never their values):
    /// constants wherever they are.</summary>
    public static readonly HashSet<string> Factories = new(StringComparer.Ordinal)
    {
        "ones_like", "zeros_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like", "arange", "ones", "zeros",
        "full", "empty", "new_ones", "new_zeros", "new_full", "new_empty", "tensor", "from_array", "randn", "rand", "randint", "eye",
        "linspace", "logspace",
    };

    /// <summary>Functions returning (values, indices) where values = input.gather(dim, indices) (the dim removed by
    /// the reductions unless kept): their values get the exact selection adjoint.</summary>
    public static readonly HashSet<string> Selections = new(StringComparer.Ordinal)
    {
        "max", "min", "sort", "topk", "median", "nanmedian", "mode", "kthvalue", "cummax", "cummin",
    };

    /// <summary>Piecewise-constant functions: their gradient is zero almost everywhere, so relevance stops there.
    /// On the relevance path that is a warning (LRP010), since it is rarely what a user means.</summary>
    public static readonly HashSet<string> ZeroGradient = new(StringComparer.Ordinal)
    {
        "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "equal",
        "argmax", "argmin", "argsort", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "isclose", "sign", "sgn", "signbit",
        "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor",
        "bool", "@bool", "@long", "@int", "@short", "@byte", "to_type_bool", "floor", "ceil", "round", "trunc", "fix",
        "nonzero", "count_nonzero", "bucketize", "searchsorted", "heaviside", "one_hot", "any", "all",
    };
}
