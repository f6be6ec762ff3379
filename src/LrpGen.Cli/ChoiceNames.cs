using System;
using System.Collections.Generic;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>The words the command line uses for methods, devices and dtypes, both ways.</summary>
public static class ChoiceNames
{
    public static readonly IReadOnlyList<(string Name, LrpMethod Method)> Methods = new[]
    {
        ("attnlrp", LrpMethod.AttnLrp),
        ("cplrp", LrpMethod.CpLrp),
        ("gradx", LrpMethod.Gradient),
    };

    public static readonly IReadOnlyList<(string Name, DeviceChoice Device)> Devices = new[]
    {
        ("cpu", DeviceChoice.Cpu),
        ("cuda", DeviceChoice.Cuda),
    };

    public static readonly IReadOnlyList<(string Name, DTypeChoice DType)> DTypes = new[]
    {
        ("float32", DTypeChoice.Float32),
        ("bfloat16", DTypeChoice.BFloat16),
        ("float16", DTypeChoice.Float16),
    };

    public static readonly IReadOnlyList<(string Name, TruncateChoice Side)> TruncateSides = new[]
    {
        ("none", TruncateChoice.None),
        ("left", TruncateChoice.Left),
        ("right", TruncateChoice.Right),
    };

    /// <summary>The JSON and display name of a method: attnlrp, cplrp, gradx.</summary>
    public static string Name(LrpMethod method) => Methods.First(m => m.Method == method).Name;

    public static string Name(DTypeChoice dtype) => DTypes.First(d => d.DType == dtype).Name;

    public static string Name(DeviceChoice device) => Devices.First(d => d.Device == device).Name;

    /// <summary>Looks a word up case-insensitively; false when it is not one of the names.</summary>
    public static bool TryParse<T>(IReadOnlyList<(string Name, T Value)> choices, string word, out T value)
    {
        foreach (var (name, v) in choices)
            if (string.Equals(name, word.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        value = default!;
        return false;
    }

    public static string List<T>(IReadOnlyList<(string Name, T Value)> choices) => string.Join(", ", choices.Select(c => c.Name));
}
