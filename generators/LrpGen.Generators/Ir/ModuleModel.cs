namespace LrpGen.Generators.Ir;

internal sealed record ForwardParameter(string Name, string Type, bool IsTensor, bool NoRelevance, int ValueId);

/// <summary>Everything the emitter needs for one [LrpModule] class: pure data, cacheable.</summary>
internal sealed record ModuleModel(
    string HintName,
    string? Namespace,
    EquatableArray<string> ContainingTypes,
    string ClassName,
    string ClassDeclaration,
    EquatableArray<string> Usings,
    EquatableArray<ForwardParameter> Parameters,
    EquatableArray<ValueInfo> Values,
    Region Body,
    bool Valid,
    string Prefix);

/// <summary>The result of parsing one class: the model to emit (if any) and the diagnostics to report.</summary>
internal sealed record ModuleResult(ModuleModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
