using System;
using System.Collections.Generic;
using System.Linq;

namespace LrpGen.Models.Sentences;

/// <summary>How a sentence-transformers model turns token states into one vector (sentence-transformers' Pooling module).</summary>
public enum PoolingMode
{
    /// <summary>The first token's state ([CLS]).</summary>
    Cls,
    /// <summary>The mean over the real (unpadded) tokens.</summary>
    Mean,
    /// <summary>The element-wise maximum over the real tokens.</summary>
    Max,
    /// <summary>The last real token's state.</summary>
    LastToken,
}

/// <summary>The names of the pooling modes, as the CLI and error messages spell them.</summary>
public static class PoolingModes
{
    public static IReadOnlyList<(string Name, PoolingMode Mode)> Names { get; } = new[]
    {
        ("cls", PoolingMode.Cls), ("mean", PoolingMode.Mean), ("max", PoolingMode.Max), ("last", PoolingMode.LastToken),
    };

    public static string Name(PoolingMode mode) => Names.First(n => n.Mode == mode).Name;

    public static string List => string.Join(", ", Names.Select(n => n.Name));

    public static bool TryParse(string? name, out PoolingMode mode)
    {
        foreach (var (n, m) in Names)
            if (string.Equals(n, name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                mode = m;
                return true;
            }
        mode = default;
        return false;
    }
}
