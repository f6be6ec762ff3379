using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LrpGen.Generators.Diagnostics;
using LrpGen.Generators.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace LrpGen.Generators.Parse;

/// <summary>Turns one [LrpModule] class into a <see cref="ModuleModel"/> plus diagnostics. Never throws.</summary>
internal static class ModuleParser
{
    public static ModuleResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        string name = context.TargetSymbol.Name;
        try
        {
            var model = ParseCore(context, diagnostics, cancellationToken);
            // The same construct may be lowered more than once (a loop body whose carried values change): report it once.
            return new ModuleResult(model, diagnostics.Distinct().ToEquatable());
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            diagnostics.Add(DiagnosticInfo.Create(LrpDiagnostics.GeneratorFault, context.TargetNode.GetLocation(), name, e.GetType().Name + ": " + e.Message));
            return new ModuleResult(null, diagnostics.ToEquatable());
        }
    }

    private static ModuleModel? ParseCore(GeneratorAttributeSyntaxContext context, List<DiagnosticInfo> diagnostics, CancellationToken ct)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not ClassDeclarationSyntax syntax) return null;
        var location = syntax.Identifier.GetLocation();
        void Report(DiagnosticDescriptor d, Location? at, params string[] args) => diagnostics.Add(DiagnosticInfo.Create(d, at ?? location, args));

        if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            Report(LrpDiagnostics.ClassNotPartial, location, type.Name);
            return null;
        }
        for (var outer = syntax.Parent as TypeDeclarationSyntax; outer is not null; outer = outer.Parent as TypeDeclarationSyntax)
            if (!outer.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                Report(LrpDiagnostics.UnsupportedShape, location, type.Name, $"the containing type '{outer.Identifier.Text}' is not partial");
                return null;
            }
        if (type.IsGenericType)
        {
            Report(LrpDiagnostics.UnsupportedShape, location, type.Name, "generic classes are not supported");
            return null;
        }
        if (!TorchSymbols.IsModule(type))
        {
            Report(LrpDiagnostics.NotAModule, location, type.Name);
            return null;
        }

        ValidateMemberRules(type, diagnostics);

        var forwards = type.GetMembers("forward").OfType<IMethodSymbol>()
            .Where(m => m.DeclaringSyntaxReferences.Length > 0 && !m.IsStatic).ToList();
        if (forwards.Count == 0)
        {
            Report(LrpDiagnostics.NoForward, location, type.Name, "no instance method named 'forward' is declared");
            return null;
        }
        if (forwards.Count > 1)
        {
            Report(LrpDiagnostics.NoForward, location, type.Name, "several 'forward' overloads; keep one");
            return null;
        }
        var forward = forwards[0];
        if (!TorchSymbols.IsTensor(forward.ReturnType))
        {
            Report(LrpDiagnostics.NoForward, forward.Locations.FirstOrDefault(), type.Name, $"'forward' returns {forward.ReturnType.ToDisplayString()}, not a Tensor");
            return null;
        }
        if (forward.DeclaringSyntaxReferences[0].GetSyntax(ct) is not MethodDeclarationSyntax forwardSyntax
            || (forwardSyntax.Body is null && forwardSyntax.ExpressionBody is null))
        {
            Report(LrpDiagnostics.NoForward, forward.Locations.FirstOrDefault(), type.Name, "'forward' has no body");
            return null;
        }
        foreach (var p in forward.Parameters)
            if (p.RefKind != RefKind.None || p.IsParams)
            {
                Report(LrpDiagnostics.UnsupportedConstruct, p.Locations.FirstOrDefault(), $"the parameter modifier on '{p.Name}'");
                return null;
            }

        var semantic = forwardSyntax.SyntaxTree == context.SemanticModel.SyntaxTree
            ? context.SemanticModel
            : context.SemanticModel.Compilation.GetSemanticModel(forwardSyntax.SyntaxTree);
        IOperation? body = forwardSyntax.Body is not null
            ? semantic.GetOperation(forwardSyntax.Body, ct)
            : semantic.GetOperation(forwardSyntax.ExpressionBody!.Expression, ct);
        if (body is null) return null;

        foreach (var (declared, at) in DeclaredNames(type, ct))
            if (Hygiene.IsGeneratedMember(declared))
            {
                Report(LrpDiagnostics.UnsupportedShape, at, type.Name,
                    $"the class declares '{declared}', a name the generated relevance pass defines; rename it");
                return null;
            }

        var reserved = ReservedNames(type, semantic).ToList();
        string prefix = Hygiene.ChoosePrefix(UserIdentifiers(type, semantic.Compilation, ct));
        bool cpForced = TorchSymbols.FindAttribute(type, "CpLrpAttribute") is not null;
        // Rule attributes on forward apply to its whole body, as on a helper method.
        var scope = ForwardLowerer.ScopeFor(forward, RuleScope.Root(cpForced)) with { Origin = "forward" };
        var lowerer = new ForwardLowerer(semantic, type, scope, reserved, prefix);
        var (region, parameters) = lowerer.LowerForward(forward, body);
        diagnostics.AddRange(lowerer.Diagnostics);
        if (!lowerer.Failed && TorchSymbols.FindAttribute(type, "KeepAttentionMatrixAttribute") is null)
        {
            var (fused, kept) = AttentionFusion.Run(region, lowerer.Values, prefix);
            region = fused;
            foreach (var (softmax, reason) in kept)
                Report(LrpDiagnostics.AttentionNotFused, lowerer.LocationOf(softmax), reason);
        }
        bool valid = !lowerer.Failed && !diagnostics.Any(d => LrpDiagnostics.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);

        var containing = new List<string>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            containing.Insert(0, $"partial {(outer.TypeKind == TypeKind.Struct ? "struct" : "class")} {outer.Name}");
        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        string hint = (ns is null ? "" : ns + ".") + string.Join(".", containing.Select(c => c.Split(' ').Last())) + (containing.Count > 0 ? "." : "") + type.Name;

        return new ModuleModel(
            hint + ".Lrp.g.cs",
            ns,
            containing.ToEquatable(),
            type.Name,
            $"partial class {type.Name}",
            Usings(syntax).ToEquatable(),
            parameters.ToEquatable(),
            lowerer.Values,
            region,
            valid,
            prefix);
    }

    /// <summary>Rule attributes on members must fit the member's type.</summary>
    private static void ValidateMemberRules(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics)
    {
        foreach (var member in type.GetMembers())
        {
            ITypeSymbol? memberType = member switch
            {
                IFieldSymbol f => f.Type,
                IPropertySymbol p => p.Type,
                _ => null,
            };
            var location = member.Locations.FirstOrDefault();
            void Check(string attribute, Func<bool> fits, string why)
            {
                if (TorchSymbols.FindAttribute(member, attribute + "Attribute") is null) return;
                if (!fits()) diagnostics.Add(DiagnosticInfo.Create(LrpDiagnostics.MisplacedRule, location, attribute, member.Name, why));
            }
            if (memberType is not null)
            {
                var builtin = TorchSymbols.BuiltinModuleName(memberType);
                Check("EpsilonRule", () => builtin is "Linear" or "Conv2d", "the epsilon rule applies to Linear and Conv2d members");
                Check("GammaRule", () => builtin is "Linear" or "Conv2d", "the gamma rule applies to Linear and Conv2d members");
                Check("IdentityNonlinearity", () => BuiltinModules.IsActivation(builtin), "the identity rule applies to element-wise activation modules (GELU, SiLU, ReLU, Tanh, Sigmoid)");
                Check("NormIdentity", () => builtin == "LayerNorm", "the norm-identity rule applies to LayerNorm members");
            }
            else if (member is IMethodSymbol method && method.MethodKind == MethodKind.Ordinary)
            {
                bool returnsTensor = TorchSymbols.IsTensor(method.ReturnType);
                foreach (var a in new[] { "EpsilonRule", "GammaRule", "IdentityNonlinearity", "NormIdentity", "UniformMatmul", "UniformRule", "CpLrp", "PlainGradient" })
                    Check(a, () => returnsTensor && method.DeclaringSyntaxReferences.Length > 0, "rule attributes apply to helper methods that return a Tensor and have a body");
                Check("IdentityNonlinearity", () => method.Parameters.Count(p => TorchSymbols.IsTensor(p.Type)) == 1,
                    "an [IdentityNonlinearity] helper is one element-wise function of exactly one tensor");
            }
        }
    }

    /// <summary>Names the generated code must not reuse for its own variables: every identifier in the class
    /// except tensor locals (which become SSA values and are not declared as such).</summary>
    private static IEnumerable<string> ReservedNames(INamedTypeSymbol type, SemanticModel semantic)
    {
        var names = new HashSet<string>(Hygiene.FixedNames, StringComparer.Ordinal);
        var tensorLocals = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in type.GetMembers()) names.Add(m.Name);
        foreach (var declaration in type.DeclaringSyntaxReferences.Select(r => r.GetSyntax()))
        {
            var model = declaration.SyntaxTree == semantic.SyntaxTree ? semantic : null;
            foreach (var node in declaration.DescendantNodes())
            {
                if (node is IdentifierNameSyntax id) names.Add(id.Identifier.ValueText);
                else if (node is VariableDeclaratorSyntax v)
                {
                    if (model?.GetDeclaredSymbol(v) is ILocalSymbol local && TorchSymbols.IsTensor(local.Type)) tensorLocals.Add(local.Name);
                    else names.Add(v.Identifier.ValueText);
                }
                else if (node is ParameterSyntax p) names.Add(p.Identifier.ValueText);
            }
        }
        names.ExceptWith(tensorLocals.Where(n => !type.GetMembers(n).Any()));
        return names;
    }

    /// <summary>Names of the members the class declares.</summary>
    private static IEnumerable<(string Name, Location Location)> DeclaredNames(INamedTypeSymbol type, System.Threading.CancellationToken ct)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
            foreach (var node in reference.GetSyntax(ct).DescendantNodesAndSelf())
            {
                // Locals and parameters may use these names (the generated code names its types only in type
                // contexts, where locals are not looked up, and calls its methods through this.); members may not.
                SyntaxToken identifier = node switch
                {
                    BaseTypeDeclarationSyntax t when t != reference.GetSyntax(ct) => t.Identifier,
                    DelegateDeclarationSyntax d => d.Identifier,
                    MethodDeclarationSyntax m => m.Identifier,
                    PropertyDeclarationSyntax p => p.Identifier,
                    EventDeclarationSyntax e => e.Identifier,
                    VariableDeclaratorSyntax v when v.Parent?.Parent is BaseFieldDeclarationSyntax => v.Identifier,
                    _ => default,
                };
                if (identifier.RawKind != 0) yield return (identifier.ValueText, identifier.GetLocation());
            }
    }

    /// <summary>Every identifier written in the class and in the source of the methods its code calls (helpers
    /// that may be inlined): the names the generated code must keep apart from its own.</summary>
    private static IEnumerable<string> UserIdentifiers(INamedTypeSymbol type, Compilation compilation, System.Threading.CancellationToken ct)
    {
        var seen = new HashSet<SyntaxNode>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            var declaration = reference.GetSyntax(ct);
            if (!seen.Add(declaration)) continue;
            foreach (var token in declaration.DescendantTokens())
                if (token.IsKind(SyntaxKind.IdentifierToken)) names.Add(token.ValueText);
            var model = compilation.GetSemanticModel(declaration.SyntaxTree);
            foreach (var invocation in declaration.DescendantNodes().OfType<InvocationExpressionSyntax>())
            {
                if (model.GetSymbolInfo(invocation, ct).Symbol is not IMethodSymbol method) continue;
                foreach (var methodReference in method.DeclaringSyntaxReferences)
                {
                    var body = methodReference.GetSyntax(ct);
                    if (!seen.Add(body)) continue;
                    foreach (var token in body.DescendantTokens())
                        if (token.IsKind(SyntaxKind.IdentifierToken)) names.Add(token.ValueText);
                }
            }
        }
        return names;
    }

    private static IEnumerable<string> Usings(SyntaxNode node)
    {
        var result = new List<string>();
        for (var n = node.Parent; n is not null; n = n.Parent)
        {
            SyntaxList<UsingDirectiveSyntax> usings = n switch
            {
                CompilationUnitSyntax cu => cu.Usings,
                BaseNamespaceDeclarationSyntax ns => ns.Usings,
                _ => default,
            };
            result.InsertRange(0, usings.Where(u => u.GlobalKeyword.IsKind(SyntaxKind.None)).Select(u => u.ToString().Trim()));
        }
        return result.Distinct();
    }
}
