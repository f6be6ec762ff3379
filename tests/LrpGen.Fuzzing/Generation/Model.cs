using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Fuzzing.Generation;

/// <summary>A tensor value of a generated forward: its C# name, its shape (known when generating), and what the
/// generator's analysis will say about it (on the relevance path, a gate for CP-LRP).</summary>
internal sealed record Val
{
    public required string Name { get; init; }
    public required long[] Shape { get; init; }
    public bool OnPath { get; init; }
    public bool Gate { get; init; }
    public bool Contiguous { get; init; } = true;
    /// <summary>Computed from an operation without a rule (the program must be rejected).</summary>
    public bool Tainted { get; init; }

    public int Rank => Shape.Length;
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);
    public long Last => Shape[^1];
}

/// <summary>The rule scope the generator applies to an operation: class or helper attributes.</summary>
internal sealed record Scope(bool CpForced, double? Epsilon)
{
    public static readonly Scope None = new(false, null);
}

/// <summary>Fresh identifiers for one class: fields, locals, helpers and their parameters share one namespace.
/// Many are the generator's own identifiers, to test the hygiene of the generated code.</summary>
internal sealed class Names
{
    private static readonly string[] GeneratorIdentifiers =
    {
        "ctx", "tape", "output", "gOutput", "options", "all", "frame", "t", "gs", "ga", "gb", "point0", "changed3",
        "g_x", "f0", "i0", "v1", "d2_dim", "LrpTape", "LrpFrame0", "selected", "pass", "weights", "relevance", "g",
        "g_t1", "t1", "t2", "v2", "s1", "tape0", "scope", "result", "grad", "latents", "seeds", "kept", "x_carry",
        "h_carry", "bias0", "g_t0", "point", "frame0", "f1", "i1", "d1_aShape",
    };

    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly Random _rng;
    private int _counter;

    private readonly bool _hygiene;

    public Names(Random rng, IEnumerable<string> reserved, bool hygiene)
    {
        _rng = rng;
        _hygiene = hygiene;
        foreach (var r in reserved) _used.Add(r);
    }

    /// <summary>Names of the generated members (LRP008 when a user member takes one): for locals only.</summary>
    private static readonly HashSet<string> GeneratedMemberNames = new(StringComparer.Ordinal) { "LrpTape", "LrpFrame0" };

    /// <summary>A fresh name; <paramref name="member"/>: for a field or a helper method.</summary>
    public string Fresh(string stem, bool member = false)
    {
        if (_hygiene && _rng.NextDouble() < 0.35)
        {
            var free = GeneratorIdentifiers.Where(n => !_used.Contains(n) && !(member && GeneratedMemberNames.Contains(n))).ToList();
            if (free.Count > 0)
            {
                var pick = free[_rng.Next(free.Count)];
                _used.Add(pick);
                return pick;
            }
        }
        string name;
        do name = stem + (_counter++).ToString(CultureInfo.InvariantCulture);
        while (!_used.Add(name));
        return name;
    }
}

internal static class Code
{
    public static string D(double v)
    {
        var s = v.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    public static string L(long v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Shape(long[] shape) => string.Join(", ", shape.Select(L));

    public static string B(bool b) => b ? "true" : "false";
}
