using System;
using System.Collections.Generic;
using System.Linq;

namespace LrpGen.Fuzzing.Generation;

/// <summary>Constructs the program generator can use. A construct that is known to break the generator can be
/// switched off (--skip NAME) until the generator is fixed, so the fuzzer keeps finding other bugs.</summary>
internal sealed class FuzzConfig
{
    /// <summary>Every construct that can be skipped, with what it covers.</summary>
    public static readonly IReadOnlyDictionary<string, string> Constructs = new Dictionary<string, string>
    {
        ["new-ops"] = "select, torch.stack, torch.where with a constant condition, type_as, .mT",
        ["einsum"] = "torch.einsum(\"bij,bjk->bik\", a, b) of two relevance tensors",
        ["reject-sincos"] = "sin/cos of a relevance tensor, which must be LRP003",
        ["negate-gate"] = "-gate and c - gate as factors of a product under CP-LRP",
        ["loop-product"] = "a loop body whose carried tensor is a factor of a product",
        ["gate-merge"] = "the reference holds a value a gate by what ran (the taken branch, the iteration); skipped: by the generator's static merge",
        ["param-reassign"] = "reassigning a forward parameter",
        ["child"] = "child [LrpModule] modules",
        ["if"] = "branches on configuration",
        ["loop"] = "loops over ModuleList",
        ["reject"] = "programs with an operation without a rule on the path",
        ["hygiene"] = "names of the generated pass's own identifiers (ctx, tape, output, LrpTape, ...) for user locals, parameters and members",
        ["dtype-read"] = "x.to(y.dtype) with y another tensor",
    };

    public HashSet<string> Skipped { get; } = new(StringComparer.Ordinal);

    public bool On(string construct)
    {
        if (!Constructs.ContainsKey(construct)) throw new ArgumentException($"unknown construct '{construct}'");
        return !Skipped.Contains(construct);
    }

    /// <summary>Fraction of programs that contain an operation without a rule on the relevance path.</summary>
    public double RejectFraction { get; init; } = 0.15;

    public static FuzzConfig WithSkipped(IEnumerable<string> skipped)
    {
        var config = new FuzzConfig();
        foreach (var s in skipped.Where(s => s.Length > 0))
        {
            if (!Constructs.ContainsKey(s))
                throw new ArgumentException($"--skip: unknown construct '{s}' (known: {string.Join(", ", Constructs.Keys)})");
            config.Skipped.Add(s);
        }
        return config;
    }
}
