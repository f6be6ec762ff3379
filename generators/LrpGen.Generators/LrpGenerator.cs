using LrpGen.Generators.Emit;
using LrpGen.Generators.Ir;
using LrpGen.Generators.Parse;
using Microsoft.CodeAnalysis;

namespace LrpGen.Generators;

/// <summary>For every [LrpModule] class: parse and lower its forward (first transform, the only place symbols
/// are seen), then emit the relevance pass from the equatable model.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class LrpGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var modules = context.SyntaxProvider.ForAttributeWithMetadataName(
                TorchSymbols.LrpModuleAttribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                transform: static (ctx, ct) => ModuleParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Parse);

        context.RegisterSourceOutput(modules, static (spc, result) => Produce(result, spc.ReportDiagnostic, spc.AddSource));
    }

    /// <summary>Reports a class's diagnostics and, when it is valid, adds its generated pass. An emitter fault
    /// becomes LRP009 rather than an exception.</summary>
    internal static void Produce(ModuleResult result, System.Action<Diagnostic> report, System.Action<string, string> addSource)
    {
        foreach (var d in result.Diagnostics) report(d.ToDiagnostic());
        if (result.Model is not { } model) return;
        if (!model.Valid)
        {
            // The errors above say what to fix; the stub keeps calls to LrpForward from adding errors of their own.
            addSource(model.HintName, ModuleEmitter.EmitStub(model));
            return;
        }
        string source;
        try
        {
            source = ModuleEmitter.Emit(model);
        }
        catch (System.Exception e)
        {
            report(Diagnostic.Create(Diagnostics.LrpDiagnostics.GeneratorFault, null, model.ClassName, e.GetType().Name + ": " + e.Message));
            return;
        }
        addSource(model.HintName, source);
    }
}

/// <summary>Step names that tests use to check the pipeline caches.</summary>
public static class TrackingNames
{
    public const string Parse = "LrpGen.Parse";
}
