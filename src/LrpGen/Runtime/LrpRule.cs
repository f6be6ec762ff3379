using System;
using System.Globalization;

namespace LrpGen;

/// <summary>What a rule override selects.</summary>
public enum LrpRuleKind
{
    /// <summary>Linear / Conv2d layers: the epsilon rule with <see cref="LrpRule.Value"/> as eps.</summary>
    Epsilon,
    /// <summary>Linear / Conv2d layers: the gamma rule with <see cref="LrpRule.Value"/> as gamma.</summary>
    Gamma,
    /// <summary>Products of two relevance paths (matmul, *, einsum): the uniform rule, relevance also through gates
    /// and attention weights (AttnLRP), even where [CpLrp] is compiled.</summary>
    AttnLrp,
    /// <summary>Products: gates and attention weights are constants (CP-LRP).</summary>
    CpLrp,
    /// <summary>Every operation: the plain gradient (input x gradient) instead of its LRP rule.</summary>
    Gradient,
}

/// <summary>A rule chosen at run time for the sites under a point (<see cref="LrpOptions.RuleOverrides"/>): an
/// override replaces, at each site its op allows it, the rule compiled from the attributes.</summary>
public sealed record LrpRule
{
    private LrpRule(LrpRuleKind kind, double value)
    {
        Kind = kind;
        Value = value;
    }

    public LrpRuleKind Kind { get; }

    /// <summary>eps of <see cref="LrpRuleKind.Epsilon"/>, gamma of <see cref="LrpRuleKind.Gamma"/>; 0 otherwise.</summary>
    public double Value { get; }

    /// <summary>The epsilon rule on Linear / Conv2d layers (eps &gt;= 0; 0 is the plain gradient of the layer).</summary>
    public static LrpRule Epsilon(double epsilon) => epsilon >= 0 && !double.IsInfinity(epsilon)
        ? new(LrpRuleKind.Epsilon, epsilon)
        : throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "LrpRule.Epsilon needs a finite eps >= 0.");

    /// <summary>The gamma rule on Linear / Conv2d layers (gamma &gt;= 0).</summary>
    public static LrpRule Gamma(double gamma) => gamma >= 0 && !double.IsInfinity(gamma)
        ? new(LrpRuleKind.Gamma, gamma)
        : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "LrpRule.Gamma needs a finite gamma >= 0.");

    /// <summary>AttnLRP's uniform rule on products, relevance also through gates and attention weights.</summary>
    public static LrpRule AttnLrp { get; } = new(LrpRuleKind.AttnLrp, 0);

    /// <summary>CP-LRP on products: gates and attention weights are constants.</summary>
    public static LrpRule CpLrp { get; } = new(LrpRuleKind.CpLrp, 0);

    /// <summary>The plain gradient for every operation under the point.</summary>
    public static LrpRule Gradient { get; } = new(LrpRuleKind.Gradient, 0);

    public override string ToString() => Kind is LrpRuleKind.Epsilon or LrpRuleKind.Gamma
        ? $"{Kind}({Value.ToString("R", CultureInfo.InvariantCulture)})"
        : Kind.ToString();
}

/// <summary>The rule a Linear / Conv2d layer applies in one pass, resolved in the forward (so the tape keeps what
/// it needs): the compiled rule unless an override or the method replaces it.</summary>
public sealed record LrpLayerRule(double Epsilon, double? Gamma)
{
    /// <summary>The gamma rule reads the layer's input.</summary>
    public bool KeepsInput => Gamma is not null;

    /// <summary>The gamma rule and the epsilon rule with eps &gt; 0 read the layer's output.</summary>
    public bool KeepsOutput => Gamma is not null || Epsilon > 0;
}
