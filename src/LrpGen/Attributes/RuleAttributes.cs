using System;

namespace LrpGen;

/// <summary>Marks a partial TorchSharp module whose <c>forward</c> the generator compiles into a relevance pass.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class LrpModuleAttribute : Attribute { }

/// <summary>Keeps attention in this class as separate operations with the full [heads, T, T] probabilities on the
/// tape, instead of the fused attention that computes them a block of query rows at a time (same relevance, memory
/// quadratic in T); no LRP013 is reported.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class KeepAttentionMatrixAttribute : Attribute { }

/// <summary>Epsilon rule for a Linear/Conv member or for every linear layer inside a helper method.
/// With epsilon 0 (LXT's choice) it is the plain gradient.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method, Inherited = false)]
public sealed class EpsilonRuleAttribute : Attribute
{
    public EpsilonRuleAttribute(double epsilon = 0) => Epsilon = epsilon;
    public double Epsilon { get; }
}

/// <summary>Generalised Gamma rule (zennit / LXT's ViT recipe) for a Linear/Conv member.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method, Inherited = false)]
public sealed class GammaRuleAttribute : Attribute
{
    public GammaRuleAttribute(double gamma) => Gamma = gamma;
    public double Gamma { get; }
}

/// <summary>Uniform rule on matmuls of two relevance-carrying tensors (the default; states it explicitly).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class UniformMatmulAttribute : Attribute { }

/// <summary>Uniform rule on element-wise products of two relevance-carrying tensors (the default; states it explicitly).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class UniformRuleAttribute : Attribute { }

/// <summary>Identity rule: relevance passes an element-wise non-linearity unchanged.
/// On a helper method, the whole call is treated as one element-wise function.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method, Inherited = false)]
public sealed class IdentityNonlinearityAttribute : Attribute { }

/// <summary>Identity rule on a normalisation: the scale (rsqrt, sqrt, var, std, pow) is treated as a constant.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Method, Inherited = false)]
public sealed class NormIdentityAttribute : Attribute { }

/// <summary>CP-LRP: no relevance through attention weights or gates, for this class or helper method,
/// whatever <see cref="LrpOptions.Method"/> says (except <see cref="LrpMethod.Gradient"/>).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, Inherited = false)]
public sealed class CpLrpAttribute : Attribute { }

/// <summary>The exact gradient for everything in a helper method, division by relevance-carrying tensors included:
/// the AttnLRP treatment of a mixture-of-experts router (softmax, top-k, renormalisation).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class PlainGradientAttribute : Attribute { }

/// <summary>A forward parameter that is a constant (mask, rotary table, positions): no relevance flows to it.</summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false)]
public sealed class NoRelevanceAttribute : Attribute { }

/// <summary>A static helper method outside the [LrpModule] class (or every static method of a class marked with it)
/// that forward may call: inlined like a helper of the class itself, so attention, head split or RoPE can be written
/// once and shared. A static method with a rule attribute is a helper too.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, Inherited = false)]
public sealed class LrpHelperAttribute : Attribute { }
