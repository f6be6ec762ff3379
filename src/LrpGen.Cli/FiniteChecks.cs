using System.Collections.Generic;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary>NaN and infinity in weights, inputs and results are failures that name the tensor or output (exit 1),
/// never numbers printed as if they meant something.</summary>
internal static class FiniteChecks
{
    /// <summary>Every value of <paramref name="values"/> is finite, else a <see cref="CliRuntimeException"/> naming
    /// <paramref name="what"/>, how many values are NaN or infinite, and the first position.</summary>
    public static void Values(string what, IReadOnlyList<float> values)
    {
        int nan = 0, infinite = 0, first = -1;
        for (int i = 0; i < values.Count; i++)
        {
            if (float.IsFinite(values[i])) continue;
            if (float.IsNaN(values[i])) nan++; else infinite++;
            if (first < 0) first = i;
        }
        if (first >= 0) throw new CliRuntimeException($"{what} is not finite: {Counts(nan, infinite, values.Count)}, the first at position {first}.");
    }

    public static void Value(string what, float value)
    {
        if (!float.IsFinite(value)) throw new CliRuntimeException($"{what} is {value.ToString(CultureInfo.InvariantCulture)}, not a finite number.");
    }

    /// <summary>Every element of a floating-point tensor is finite (counted on its device).</summary>
    public static void Tensor(string what, Tensor tensor)
    {
        if (!tensor.is_floating_point()) return;
        using var nan = tensor.isnan().sum();
        using var infinite = tensor.isinf().sum();
        long n = nan.item<long>(), i = infinite.item<long>();
        if (n + i > 0) throw new CliRuntimeException($"{what} is not finite: {Counts(n, i, tensor.numel())}.");
    }

    /// <summary>Every parameter of a loaded model is finite; the message names the first one that is not.</summary>
    public static void Weights(string folder, nn.Module module)
    {
        foreach (var (name, parameter) in module.named_parameters())
        {
            using var finite = parameter.isfinite().all();
            if (finite.item<bool>()) continue;
            using var nan = parameter.isnan().sum();
            using var infinite = parameter.isinf().sum();
            throw new CliRuntimeException($"the weights in {folder} are not finite: {name} has "
                + $"{Counts(nan.item<long>(), infinite.item<long>(), parameter.numel())} (after conversion to {parameter.dtype}).");
        }
    }

    private static string Counts(long nan, long infinite, long total) =>
        (nan, infinite) switch
        {
            ( > 0, > 0) => $"{nan} NaN and {infinite} infinite of {total} values",
            ( > 0, _) => $"{nan} NaN of {total} values",
            _ => $"{infinite} infinite of {total} values",
        };
}
