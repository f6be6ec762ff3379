using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace LrpGen.Generators.Diagnostics;

/// <summary>Every diagnostic the generator reports. Each has a page under docs/diagnostics.</summary>
internal static class LrpDiagnostics
{
    private const string Category = "LrpGen";
    /// <summary>The pages ship with the project: relative to the repository root, and to the LrpGen package's root
    /// (the package carries docs/diagnostics). No web address is claimed that does not exist.</summary>
    private const string HelpBase = "docs/diagnostics/";

    public static readonly DiagnosticDescriptor ClassNotPartial = Create("LRP001",
        "[LrpModule] class must be partial",
        "[LrpModule] class '{0}' must be declared partial so the relevance pass can be generated into it",
        "Add the 'partial' modifier to the class (and to every class that contains it).");

    public static readonly DiagnosticDescriptor NoForward = Create("LRP002",
        "[LrpModule] class has no usable forward",
        "[LrpModule] class '{0}' has no 'forward' method returning a Tensor in its source: {1}",
        "Declare 'public override Tensor forward(...)' with a body in the class.");

    public static readonly DiagnosticDescriptor NoRule = Create("LRP003",
        "Operation without an LRP rule",
        "{0} is reached by relevance but has no LRP rule: {1}",
        "Relevance must pass every operation between the inputs and the output. Use an operation with a rule, mark a helper method with the rule attribute named in the message, or stop relevance with detach().");

    public static readonly DiagnosticDescriptor UnsupportedSubmodule = Create("LRP004",
        "Submodule without relevance support",
        "Submodule '{0}' of type '{1}' is neither an [LrpModule] nor a supported TorchSharp module{2}",
        "Supported built-ins: " + Ir.BuiltinModules.Names + ". Wrap anything else in an [LrpModule] class.");

    public static readonly DiagnosticDescriptor MisplacedRule = Create("LRP005",
        "Rule attribute cannot apply here",
        "[{0}] cannot apply to '{1}': {2}",
        "Put Epsilon/Gamma rules on Linear members or helper methods, IdentityNonlinearity on activation members or element-wise helpers, NormIdentity on LayerNorm members or normalisation helpers.");

    public static readonly DiagnosticDescriptor UnsupportedConstruct = Create("LRP006",
        "Construct not supported in forward",
        "Not supported in an [LrpModule] forward: {0}",
        "Forward may contain locals, assignments, tensor operations, submodule calls, foreach/for over module lists, and if/?: on non-tensor values.");

    public static readonly DiagnosticDescriptor NotAModule = Create("LRP007",
        "[LrpModule] class is not a TorchSharp module",
        "[LrpModule] class '{0}' must derive from TorchSharp's nn.Module<...>",
        "Derive the class from torch.nn.Module<Tensor, Tensor> (or another arity).");

    public static readonly DiagnosticDescriptor UnsupportedShape = Create("LRP008",
        "Class shape not supported",
        "Cannot generate the relevance pass for '{0}': {1}",
        "Generic [LrpModule] classes and classes nested in non-partial types are not supported.");

    public static readonly DiagnosticDescriptor GeneratorFault = Create("LRP009",
        "Generator fault",
        "LrpGen could not process '{0}': {1}",
        "This is a bug in LrpGen; please report it with the source that triggers it.");

    public static readonly DiagnosticDescriptor RelevanceStops = Create("LRP010",
        "Relevance stops at an operation with zero gradient",
        "Relevance stops at {0}: its gradient is zero, so no relevance flows back through it",
        "Comparisons, argmax/argmin, sign, rounding and casts to integer or bool are piecewise constant: relevance reaching them is lost. If that is meant (a mask computed from activations), detach() the input to say so.",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor RelevanceIntoNoRelevance = Create("LRP011",
        "Relevance-carrying tensor passed as a [NoRelevance] parameter",
        "'{0}' carries relevance but is passed as the [NoRelevance] parameter '{1}' of '{2}': the relevance reaching it is dropped",
        "A [NoRelevance] parameter is a constant of the child module (a mask, a rotary table). Pass a value computed off the relevance path, detach() the argument to say the drop is meant, or remove [NoRelevance] from the parameter.",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor OutputWithoutRelevance = Create("LRP012",
        "Forward's result is not reached from any relevance input",
        "The result of '{0}.forward' does not depend on any relevance-carrying input: every relevance will be zero",
        "Relevance flows from the output back to the Tensor parameters not marked [NoRelevance]. Check that the returned value is computed from them (not only from weights, buffers or detached values).",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor AttentionNotFused = Create("LRP013",
        "Attention keeps its full probability matrix",
        "This softmax(...) @ v keeps its full [heads, T, T] probabilities (memory quadratic in T): {0}",
        "Attention written as softmax(q @ k.transpose(-2, -1) * scale [+ mask]) @ v (or scaled_dot_product_attention) is computed a block of query rows at a time when nothing else reads its scores or probabilities. Let only the attention read them (compute attention maps in a separate method), or mark the class [KeepAttentionMatrix] to keep the matrix on purpose.",
        DiagnosticSeverity.Info);

    private static readonly Dictionary<string, DiagnosticDescriptor> All = new()
    {
        [ClassNotPartial.Id] = ClassNotPartial,
        [NoForward.Id] = NoForward,
        [NoRule.Id] = NoRule,
        [UnsupportedSubmodule.Id] = UnsupportedSubmodule,
        [MisplacedRule.Id] = MisplacedRule,
        [UnsupportedConstruct.Id] = UnsupportedConstruct,
        [NotAModule.Id] = NotAModule,
        [UnsupportedShape.Id] = UnsupportedShape,
        [GeneratorFault.Id] = GeneratorFault,
        [RelevanceStops.Id] = RelevanceStops,
        [RelevanceIntoNoRelevance.Id] = RelevanceIntoNoRelevance,
        [OutputWithoutRelevance.Id] = OutputWithoutRelevance,
        [AttentionNotFused.Id] = AttentionNotFused,
    };

    /// <summary>Every descriptor, for the documentation check.</summary>
    public static IEnumerable<DiagnosticDescriptor> Descriptors => All.Values;

    public static DiagnosticDescriptor ById(string id) =>
        All.TryGetValue(id, out var d) ? d : throw new ArgumentException($"Unknown diagnostic {id}");

    private static DiagnosticDescriptor Create(string id, string title, string message, string description,
        DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true,
            description: description, helpLinkUri: HelpBase + id + ".md");
}
