using System;
using System.Collections.Generic;
using System.Linq;

namespace LrpGen.Evaluation;

/// <summary>The attribution methods compared by the evaluations.</summary>
public enum AttributionMethod
{
    /// <summary>AttnLRP: the generated relevance pass (<see cref="LrpMethod.AttnLrp"/>).</summary>
    AttnLrp,
    /// <summary>CP-LRP: the generated pass with attention weights and gates as constants (<see cref="LrpMethod.CpLrp"/>).</summary>
    CpLrp,
    /// <summary>Input x gradient: the generated pass with plain gradients (<see cref="LrpMethod.Gradient"/>).</summary>
    InputXGradient,
    /// <summary>Integrated Gradients from the all-zero input embeddings, midpoint Riemann sum (autograd).</summary>
    IntegratedGradients,
    /// <summary>SmoothGrad on input x gradient: input x the mean gradient over Gaussian-noised inputs (autograd).</summary>
    SmoothGrad,
    /// <summary>Attention rollout (Abnar and Zuidema 2020): head-averaged attention plus the residual identity,
    /// multiplied over the layers.</summary>
    AttentionRollout,
    /// <summary>Uniform random relevance: the baseline every method should beat.</summary>
    Random,
}

/// <summary>The command-line and table names of the methods, both ways.</summary>
public static class AttributionMethods
{
    /// <summary>All methods, in table order.</summary>
    public static readonly IReadOnlyList<AttributionMethod> All = (AttributionMethod[])Enum.GetValues(typeof(AttributionMethod));

    private static readonly (string Name, string Label, AttributionMethod Method)[] Names =
    {
        ("attnlrp", "AttnLRP", AttributionMethod.AttnLrp),
        ("cplrp", "CP-LRP", AttributionMethod.CpLrp),
        ("gradx", "input x gradient", AttributionMethod.InputXGradient),
        ("ig", "Integrated Gradients", AttributionMethod.IntegratedGradients),
        ("smoothgrad", "SmoothGrad (x input)", AttributionMethod.SmoothGrad),
        ("rollout", "attention rollout", AttributionMethod.AttentionRollout),
        ("random", "random", AttributionMethod.Random),
    };

    /// <summary>The short name: attnlrp, cplrp, gradx, ig, smoothgrad, rollout, random.</summary>
    public static string Name(AttributionMethod method) => Names.First(n => n.Method == method).Name;

    /// <summary>The name in tables and plots.</summary>
    public static string Label(AttributionMethod method) => Names.First(n => n.Method == method).Label;

    /// <summary>The short names, comma-separated.</summary>
    public static string List => string.Join(", ", Names.Select(n => n.Name));

    /// <summary>Looks a short name up (case-insensitive).</summary>
    public static bool TryParse(string name, out AttributionMethod method)
    {
        foreach (var n in Names)
            if (string.Equals(n.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                method = n.Method;
                return true;
            }
        method = default;
        return false;
    }

    /// <summary>Parses a comma-separated list of short names ("attnlrp,ig,random"); "all" is every method.</summary>
    public static IReadOnlyList<AttributionMethod> ParseList(string list)
    {
        if (list is null) throw new ArgumentNullException(nameof(list));
        if (string.Equals(list.Trim(), "all", StringComparison.OrdinalIgnoreCase)) return All;
        var result = new List<AttributionMethod>();
        foreach (var part in list.Split(','))
        {
            if (!TryParse(part, out var method))
                throw new ArgumentException($"'{part.Trim()}' is not a method; use {List} or all.", nameof(list));
            if (!result.Contains(method)) result.Add(method);
        }
        return result;
    }
}
