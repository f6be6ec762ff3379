using Microsoft.CodeAnalysis;

namespace LrpGen.Generators.Ir;

/// <summary>A diagnostic to report, held as data (descriptor id + location + message arguments).</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
    {
        var descriptor = Diagnostics.LrpDiagnostics.ById(Id);
        var args = new object[Arguments.Count];
        for (int i = 0; i < args.Length; i++) args[i] = Arguments[i];
        return Diagnostic.Create(descriptor, Location?.ToLocation(), args);
    }

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] args) =>
        new(descriptor.Id, LocationInfo.From(location), args.ToEquatable());
}
