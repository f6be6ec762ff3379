using System.Linq;

namespace LrpGen.Generators.Ir;

/// <summary>How the generated pass treats a built-in TorchSharp module.</summary>
internal enum BuiltinRule { Linear, Conv2d, Sequential, Embedding, LayerNorm, Identity, Activation }

/// <summary>The built-in TorchSharp modules an [LrpModule] may call, with the rule each gets: the one list the
/// lowering, the LRP004 message and docs/diagnostics/LRP004.md follow (a test checks the page).</summary>
internal static class BuiltinModules
{
    public static readonly (string Name, BuiltinRule Rule, string RuleText)[] All =
    {
        ("Linear", BuiltinRule.Linear, "epsilon (eps 0 unless [EpsilonRule]) or [GammaRule]"),
        ("Conv2d", BuiltinRule.Conv2d, "epsilon (eps 0 unless [EpsilonRule]) or [GammaRule]"),
        ("Sequential", BuiltinRule.Sequential, "each child's rule, dispatched at run time"),
        ("Embedding", BuiltinRule.Embedding, "token relevance (a leaf)"),
        ("LayerNorm", BuiltinRule.LayerNorm, "identity on the normalisation"),
        ("Dropout", BuiltinRule.Identity, "identity (evaluation)"),
        ("Dropout1d", BuiltinRule.Identity, "identity (evaluation)"),
        ("Dropout2d", BuiltinRule.Identity, "identity (evaluation)"),
        ("AlphaDropout", BuiltinRule.Identity, "identity (evaluation)"),
        ("Identity", BuiltinRule.Identity, "identity"),
        ("GELU", BuiltinRule.Activation, "identity rule (element-wise)"),
        ("SiLU", BuiltinRule.Activation, "identity rule (element-wise)"),
        ("ReLU", BuiltinRule.Activation, "identity rule (element-wise)"),
        ("Tanh", BuiltinRule.Activation, "identity rule (element-wise)"),
        ("Sigmoid", BuiltinRule.Activation, "identity rule (element-wise)"),
    };

    public static BuiltinRule? RuleOf(string? name)
    {
        foreach (var m in All)
            if (m.Name == name) return m.Rule;
        return null;
    }

    public static bool IsActivation(string? name) => RuleOf(name) == BuiltinRule.Activation;

    public static string Names => string.Join(", ", All.Select(m => m.Name));
}
