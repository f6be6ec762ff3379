using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace LrpGen.Fuzzing.Generation;

/// <summary>One generated [LrpModule] class and its reference: fields, constructor, forward and helpers on the
/// module side; a static class with the same forward and helpers with the rules injected on the reference side.</summary>
internal sealed class ClassGen
{
    public ClassGen(string name, Names names, bool cpClass)
    {
        Name = name;
        Names = names;
        CpClass = cpClass;
    }

    public string Name { get; }
    public string RefName => Name + "Ref";
    public Names Names { get; }
    public bool CpClass { get; }

    public List<string> Fields { get; } = new();
    public List<string> Ctor { get; } = new();
    /// <summary>Constructor parameters (configuration) and the values the test case passes.</summary>
    public List<(string Decl, string Value)> CtorParams { get; } = new();
    public List<string> Methods { get; } = new();
    public List<string> RefMethods { get; } = new();
    public List<ClassGen> Children { get; } = new();
    public List<(string Name, long[] Shape, InputKind Kind)> Inputs { get; } = new();
    public Block Body { get; set; } = null!;
    public string Output { get; set; } = "";
    public long[] OutputShape { get; set; } = System.Array.Empty<long>();

    /// <summary>The constructor call with the configuration values.</summary>
    public string NewExpr => $"new {Name}({string.Join(", ", CtorParams.Select(p => p.Value))})";

    public string Print()
    {
        var sb = new StringBuilder();
        sb.Append(CpClass ? "[LrpModule, CpLrp]\n" : "[LrpModule]\n");
        var generic = string.Join(", ", Inputs.Select(_ => "Tensor"));
        sb.Append($"public partial class {Name} : nn.Module<{generic}, Tensor>\n{{\n");
        foreach (var f in Fields) sb.Append("    ").Append(f).Append('\n');
        sb.Append('\n');
        sb.Append($"    public {Name}({string.Join(", ", CtorParams.Select(p => p.Decl))}) : base(\"{Name}\")\n    {{\n");
        foreach (var c in Ctor) sb.Append("        ").Append(c).Append('\n');
        sb.Append("        RegisterComponents();\n    }\n");
        foreach (var m in Methods) sb.Append('\n').Append(m);
        var parameters = string.Join(", ", Inputs.Select(i => (i.Kind == InputKind.Relevance ? "" : "[NoRelevance] ") + "Tensor " + i.Name));
        sb.Append($"\n    public override Tensor forward({parameters})\n    {{\n");
        foreach (var s in Body.Fwd) sb.Append(s).Append('\n');
        sb.Append($"        return {Output};\n    }}\n}}\n");
        return sb.ToString();
    }

    public string PrintReference()
    {
        var sb = new StringBuilder();
        sb.Append($"internal static class {RefName}\n{{\n");
        var parameters = string.Join(", ", Inputs.Select(i => "Tensor " + i.Name));
        sb.Append($"    internal static Tensor Forward(RuleInjection rr__, {Name} mm__, {parameters})\n    {{\n");
        foreach (var s in Body.Ref) sb.Append(s).Append('\n');
        sb.Append($"        return {Output};\n    }}\n");
        foreach (var m in RefMethods) sb.Append('\n').Append(m);
        sb.Append("}\n");
        return sb.ToString();
    }
}

internal enum InputKind { Relevance, BoolMask, FloatConstant }

/// <summary>Statements of a forward (or a helper, a branch) and the matching reference statements, with the
/// values in scope.</summary>
internal sealed class Block
{
    public Block(List<Val> pool, Scope scope, int indent, BlockKind kind)
    {
        Pool = pool;
        Scope = scope;
        Indent = indent;
        Kind = kind;
    }

    public List<string> Fwd { get; } = new();
    public List<string> Ref { get; } = new();
    public List<Val> Pool { get; }
    public Scope Scope { get; }
    public int Indent { get; }
    public BlockKind Kind { get; }
    /// <summary>Only shape-preserving operations (branch bodies, module-list elements).</summary>
    public bool Preserve { get; init; }
    /// <summary>Locals declared in this block (they may be reassigned here).</summary>
    public HashSet<string> Declared { get; } = new();
    /// <summary>Values created in this block.</summary>
    public List<Val> Created { get; } = new();

    public string Pad => new(' ', Indent * 4);

    public void Both(string fwd, string reference)
    {
        Fwd.Add(Pad + fwd);
        Ref.Add(Pad + reference);
    }
}

internal enum BlockKind { Forward, Helper, Branch }
