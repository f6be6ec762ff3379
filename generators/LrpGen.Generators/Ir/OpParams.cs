namespace LrpGen.Generators.Ir;

/// <summary>What an operation's rule needs beyond its inputs and arguments, typed per kind. Kinds without such
/// facts carry <see cref="NoParams"/>.</summary>
internal abstract record OpParams
{
    public static readonly OpParams None = new NoParams();
}

internal sealed record NoParams : OpParams;

/// <summary>Linear, Conv2d, functional linear: the compiled epsilon, and gamma when the gamma rule was chosen.
/// <see cref="LrpContext"/> may replace both at run time (LrpOptions.RuleOverrides).</summary>
internal sealed record LayerRuleParams(double Epsilon, double? Gamma) : OpParams;

/// <summary>a + b or a - b.</summary>
internal sealed record AddSubParams(bool Subtract) : OpParams;

/// <summary>triu (upper) or tril.</summary>
internal sealed record TriangleParams(bool Upper) : OpParams;

/// <summary>Where a LayerNorm's weight comes from: the module's member, the op's second input (functional
/// layer_norm with a weight) or nowhere (functional without one).</summary>
internal enum LayerNormWeight { ModuleMember, SecondInput, None }

internal sealed record LayerNormParams(LayerNormWeight Weight) : OpParams;

/// <summary>An element-wise function under the identity rule: the name shown in the generated comment.</summary>
internal sealed record ElementwiseParams(string Name) : OpParams;

/// <summary>softmax computed in another dtype than its scores: the backward converts the gradient back.
/// <see cref="ComputeType"/>: the C# expression of that dtype (null when the softmax runs in the scores' dtype).</summary>
internal sealed record SoftmaxParams(bool ConvertsBack, string? ComputeType = null) : OpParams;

/// <summary>Fused attention: whether the q @ k^T product was compiled under [CpLrp] (the op's own flag is that of the
/// probabilities @ v product) and whether the op's fourth input is a mask.</summary>
internal sealed record AttentionParams(bool ScoresCpForced, bool HasMask) : OpParams;

/// <summary>A call of a child [LrpModule]: its type (whose LrpTape the frame holds) and whether the call can be
/// recomputed in the backward (all its arguments are tensors; memory-saving mode).</summary>
internal sealed record ChildParams(string Type, bool Recomputable) : OpParams;

/// <summary>The additive bias scaled_dot_product_attention builds (a constant): its mask value (-1: none) and the C#
/// expression of is_causal, which the fused attention applies a block of rows at a time instead.</summary>
internal sealed record SdpaBiasParams(int Mask, string Causal) : OpParams;
