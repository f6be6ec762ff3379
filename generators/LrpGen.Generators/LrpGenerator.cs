using LrpGen.Generators.Emit;
using LrpGen.Generators.Ir;
using LrpGen.Generators.Parse;
using Microsoft.CodeAnalysis;

namespace LrpGen.Generators;

/// <summary>For every [LrpModule] class: parse and lower its forward (first transform, the only place symbols
/// are seen), then two pipelines from its result: the diagnostics (which carry source locations) are reported,
/// and the model (which carries none) is emitted. An edit that only moves a class leaves its model equal, so its
/// code is not emitted again while its diagnostics move with it.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class LrpGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var results = context.SyntaxProvider.ForAttributeWithMetadataName(
                TorchSymbols.LrpModuleAttribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                transform: static (ctx, ct) => ModuleParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Parse);

        var diagnostics = results.Select(static (result, _) => result.Diagnostics).WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (spc, list) =>
        {
            foreach (var d in list) spc.ReportDiagnostic(d.ToDiagnostic());
        });

        var models = results.Select(static (result, _) => result.Model).WithTrackingName(TrackingNames.Model);
        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            if (model is not null) EmitModule(model, spc.ReportDiagnostic, spc.AddSource);
        });
    }

    /// <summary>Adds a class's generated pass (a stub when the class has LRP errors). An emitter fault becomes
    /// LRP009 rather than an exception.</summary>
    internal static void EmitModule(ModuleModel model, System.Action<Diagnostic> report, System.Action<string, string> addSource)
    {
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
    public const string Diagnostics = "LrpGen.Diagnostics";
    /// <summary>The model a class's code is emitted from: Cached or Unchanged means its code is not emitted again.</summary>
    public const string Model = "LrpGen.Model";
}
