namespace LrpGen.Generators.Parse;

/// <summary>The rule attributes in force while lowering a method body (forward or an inlined helper).</summary>
internal sealed record RuleScope(bool CpForced, bool NormIdentity, double? Epsilon, double? Gamma, string Origin, bool PlainGradient = false)
{
    public static RuleScope Root(bool cpForced) => new(cpForced, false, null, null, "forward");
}
