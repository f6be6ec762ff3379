using Microsoft.CodeAnalysis;

namespace LrpGen.Generators.Parse;

/// <summary>Recognises TorchSharp and LrpGen types by name, without holding symbols.</summary>
internal static class TorchSymbols
{
    public const string LrpModuleAttribute = "LrpGen.LrpModuleAttribute";

    public static bool IsTensor(ITypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.Name == "Tensor" && t.ContainingType?.Name == "torch" && t.ContainingNamespace?.Name == "TorchSharp")
                return true;
        return false;
    }

    public static bool IsTensorArray(ITypeSymbol? type) => type is IArrayTypeSymbol a && IsTensor(a.ElementType);

    public static bool IsParameter(ITypeSymbol? type) =>
        type is { Name: "Parameter" } && type.ContainingNamespace?.ToDisplayString() == "TorchSharp.Modules";

    /// <summary>True for any TorchSharp nn.Module (generic or not).</summary>
    public static bool IsModule(ITypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.Name == "Module" && t.ContainingType?.Name == "nn" && t.ContainingType.ContainingType?.Name == "torch")
                return true;
        return false;
    }

    /// <summary>The TorchSharp.Modules type name of a built-in module (Linear, LayerNorm, ...), else null.</summary>
    public static string? BuiltinModuleName(ITypeSymbol? type) =>
        type is INamedTypeSymbol { ContainingNamespace: { } ns } named && ns.ToDisplayString() == "TorchSharp.Modules"
            ? named.Name
            : null;

    public static bool IsLrpModule(ITypeSymbol? type)
    {
        if (type is null) return false;
        foreach (var a in type.GetAttributes())
            if (a.AttributeClass?.ToDisplayString() == LrpModuleAttribute) return true;
        return false;
    }

    public static bool IsModuleList(ITypeSymbol? type) =>
        type is INamedTypeSymbol { Name: "ModuleList", ContainingNamespace: { } ns } && ns.ToDisplayString() == "TorchSharp.Modules";

    /// <summary>torch, torch.nn.functional, torch.special, or the Tensor class itself.</summary>
    public static bool IsTorchApi(INamedTypeSymbol? type)
    {
        for (var t = type; t is not null; t = t.ContainingType)
            if (t.Name == "torch" && t.ContainingNamespace?.Name == "TorchSharp") return true;
        return false;
    }

    public static AttributeData? FindAttribute(ISymbol symbol, string name)
    {
        foreach (var a in symbol.GetAttributes())
            if (a.AttributeClass is { } c && c.Name == name && c.ContainingNamespace?.ToDisplayString() == "LrpGen")
                return a;
        return null;
    }

    public static double? DoubleArgument(AttributeData? attribute)
    {
        if (attribute is null) return null;
        if (attribute.ConstructorArguments.Length == 0) return 0.0;
        var v = attribute.ConstructorArguments[0].Value;
        return v is null ? null : System.Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture);
    }
}
