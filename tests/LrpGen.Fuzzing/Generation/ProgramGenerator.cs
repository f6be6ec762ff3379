using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace LrpGen.Fuzzing.Generation;

/// <summary>A generated program: one file with the [LrpModule] class (and its children), its reference and
/// the test case that ties them together. A program meant to be rejected names the line of its LRP003.</summary>
public sealed record FuzzProgram(string Name, string Source, int? RejectLine, string RejectId = "LRP003")
{
    public const string NamespacePrefix = "Fuzz.";

    /// <summary>The expectation written into the source, so that a saved program (a regression) is self-contained:
    /// a line ending in "// reject: no rule" must get LRP003 there, one ending in "// reject: LRPnnn" that error.</summary>
    public static FuzzProgram FromSource(string name, string source)
    {
        const string marker = "// reject: ";
        var lines = source.Split('\n');
        int index = Array.FindIndex(lines, l => l.Contains(marker, StringComparison.Ordinal));
        if (index < 0) return new FuzzProgram(name, source, null);
        var what = lines[index][(lines[index].IndexOf(marker, StringComparison.Ordinal) + marker.Length)..].Trim();
        return new FuzzProgram(name, source, index + 1, what.StartsWith("LRP", StringComparison.Ordinal) ? what : "LRP003");
    }
}

/// <summary>Builds random, well-typed forward programs over what the generator supports (seeded, reproducible).</summary>
internal sealed partial class ProgramGenerator
{
    private const string RejectMarker = "// reject: no rule";
    private readonly Random _rng;
    private readonly FuzzConfig _config;
    private readonly string _programName;
    private int _childCount;
    private bool _reject;
    private bool _rejected;

    private ProgramGenerator(Random rng, FuzzConfig config, string programName)
    {
        _rng = rng;
        _config = config;
        _programName = programName;
    }

    /// <summary>Program number <paramref name="index"/> of the run with seed <paramref name="seed"/>.</summary>
    public static FuzzProgram Generate(int seed, int index, FuzzConfig config)
    {
        // Not HashCode.Combine: it is randomised per process, and a seed must give the same programs every time.
        var rng = new Random(unchecked(seed * 1_000_003 + index * 7919 + 17));
        string name = $"P{(uint)seed}_{index}";
        return new ProgramGenerator(rng, config, name).Build();
    }

    private FuzzProgram Build()
    {
        _reject = _config.On("reject") && _rng.NextDouble() < _config.RejectFraction;
        var root = NewClass(_programName, cpClass: _rng.NextDouble() < 0.08);
        _root = root;
        // Inputs: one to three relevance tensors.
        long b = 2, t = Pick(3L, 4L), d = Pick(4L, 6L, 8L);
        int relevanceInputs = _rng.NextDouble() < 0.6 ? 1 : _rng.NextDouble() < 0.7 ? 2 : 3;
        var pool = new List<Val>();
        for (int i = 0; i < relevanceInputs; i++)
        {
            long[] shape = _rng.Next(5) switch
            {
                0 => new[] { b, d },
                1 => new[] { b, t, Pick(4L, 6L) },
                _ => new[] { b, t, d },
            };
            var name = root.Names.Fresh("x");
            root.Inputs.Add((name, shape, InputKind.Relevance));
            pool.Add(new Val { Name = name, Shape = shape, OnPath = true });
        }
        root.Body = new Block(pool, new Scope(root.CpClass, null), 2, BlockKind.Forward);
        int ops = _rng.Next(3, 11);
        int rejectAt = _reject ? _rng.Next(0, ops) : -1;
        for (int i = 0; i < ops; i++)
        {
            if (i == rejectAt) EmitRejected(root, root.Body);
            RandomStep(root, root.Body, depth: 0);
        }
        if (_reject && !_rejected) EmitRejected(root, root.Body);
        root.Output = ChooseOutput(root.Body).Name;

        var file = new StringBuilder();
        file.Append("using System;\nusing System.Linq;\nusing LrpGen;\nusing LrpGen.Tests.Reference;\nusing TorchSharp;\n")
            .Append("using TorchSharp.Modules;\nusing static TorchSharp.torch;\n\n")
            .Append($"namespace {FuzzProgram.NamespacePrefix}{_programName};\n\n");
        foreach (var c in AllClasses(root))
        {
            file.Append(c.Print()).Append('\n');
            if (!_reject) file.Append(c.PrintReference()).Append('\n');
        }
        if (!_reject) file.Append(PrintCase(root));
        var source = file.ToString();
        return FuzzProgram.FromSource(_programName, source);
    }

    private static IEnumerable<ClassGen> AllClasses(ClassGen c) => c.Children.SelectMany(AllClasses).Prepend(c);

    private ClassGen NewClass(string name, bool cpClass)
    {
        var reserved = new[] { name, name + "Ref", "Case", "mm__", "rr__", "xs__", "u__", "p__", "q__", "b__", "Forward", "forward", "call" };
        return new ClassGen(name, new Names(_rng, reserved, _config.On("hygiene")), cpClass);
    }

    /// <summary>The returned value: relevance-carrying, and through the rejected operation if there is one.</summary>
    private Val ChooseOutput(Block block)
    {
        var candidates = block.Pool.Where(v => _reject ? v.Tainted : v.OnPath).ToList();
        if (candidates.Count == 0) candidates = block.Pool.Where(v => v.OnPath).ToList();
        // Prefer the latest value: it depends on the most operations.
        return candidates[^1];
    }

    private string PrintCase(ClassGen root)
    {
        var sb = new StringBuilder();
        int seed = _rng.Next(1, 1_000_000);
        var fields = string.Join(", ", root.Inputs.Select(i => i.Name + "__"));
        sb.Append("public sealed class Case : LrpGen.Fuzzing.IFuzzCase\n{\n");
        sb.Append($"    private readonly {root.Name} mm__;\n");
        sb.Append($"    private readonly Tensor {fields};\n\n");
        sb.Append("    public Case()\n    {\n");
        sb.Append($"        torch.manual_seed({seed});\n");
        sb.Append($"        mm__ = {root.NewExpr};\n");
        sb.Append("        mm__.to(ScalarType.Float64);\n        mm__.eval();\n");
        foreach (var (name, shape, kind) in root.Inputs)
        {
            string init = kind switch
            {
                InputKind.Relevance => $"torch.randn(new long[] {{ {Code.Shape(shape)} }}, ScalarType.Float64)",
                InputKind.BoolMask => $"torch.rand(new long[] {{ {Code.Shape(shape)} }}, ScalarType.Float64).gt(0.3)",
                _ => $"torch.rand(new long[] {{ {Code.Shape(shape)} }}, ScalarType.Float64)",
            };
            sb.Append($"        {name}__ = {init};\n");
        }
        sb.Append("    }\n\n");
        var relevance = root.Inputs.Where(i => i.Kind == InputKind.Relevance).Select(i => i.Name + "__");
        sb.Append($"    public Tensor[] RelevanceInputs => new[] {{ {string.Join(", ", relevance)} }};\n\n");
        var args = string.Join(", ", root.Inputs.Select(i => i.Name + "__"));
        sb.Append($"    public LrpPass Generated(LrpOptions options) => mm__.LrpForward({args}, options);\n\n");
        sb.Append($"    public Tensor Plain() => mm__.call({args});\n\n");
        int k = 0;
        var refArgs = string.Join(", ", root.Inputs.Select(i => i.Kind == InputKind.Relevance ? $"xs__[{k++}]" : i.Name + "__"));
        sb.Append($"    public Tensor Reference(RuleInjection rr__, Tensor[] xs__) => {root.RefName}.Forward(rr__, mm__, {refArgs});\n\n");
        sb.Append($"    public void Dispose()\n    {{\n        mm__.Dispose();\n");
        foreach (var i in root.Inputs) sb.Append($"        {i.Name}__.Dispose();\n");
        sb.Append("    }\n}\n");
        return sb.ToString();
    }

    // ---------------------------------------------------------------- random helpers

    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];

    private T PickFrom<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];

    private bool Chance(double p) => _rng.NextDouble() < p;
}
