using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>Errors of generated passes, worded for the caller: which inputs (name, shape, dtype) a failure happened
/// on, and LibTorch's own reason without its C++ stack.</summary>
public static class LrpErrors
{
    /// <summary>The error a generated <c>LrpForward</c> throws when the forward fails on its inputs (a LibTorch
    /// error: wrong shape, wrong dtype, wrong device), e.g. "LrpForward of GatedMlp failed on its inputs x [2, 5, 7]
    /// float32: mat1 and mat2 shapes cannot be multiplied (10x7 and 8x16)". <paramref name="error"/> is kept as the
    /// inner exception.</summary>
    /// <param name="module">The module's class name.</param>
    /// <param name="names">The forward's tensor parameter names, in order.</param>
    /// <param name="inputs">The tensors passed for them (null where none was given).</param>
    /// <param name="error">What the forward threw (TorchSharp's ExternalException for a LibTorch error).</param>
    public static ArgumentException ForwardFailed(string module, string[] names, Tensor?[] inputs, Exception error)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(error);
        var described = names.Select((name, i) => $"{name} {Describe(i < inputs.Length ? inputs[i] : null)}");
        string message = $"LrpForward of {module} failed on its inputs {string.Join(", ", described)}: {Reason(error.Message)}";
        return new ArgumentException(message, error);
    }

    /// <summary>"[2, 5, 7] float32", with the device when it is not the CPU.</summary>
    public static string Describe(Tensor? tensor)
    {
        if (tensor is null) return "null";
        if (tensor.IsInvalid) return "(disposed)";
        string text = $"[{string.Join(", ", tensor.shape)}] {tensor.dtype.ToString().ToLowerInvariant()}";
        return tensor.device.type == DeviceType.CPU ? text : $"{text} {tensor.device}";
    }

    /// <summary>The meaningful part of a LibTorch message, on one line. LibTorch appends where the error was raised
    /// ("Exception raised from ... (most recent call first):") and the C++ frames ("frame #0: ..."); those, and a
    /// Python-style "Traceback" some operators carry, are cut.</summary>
    public static string Reason(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var kept = new List<string>();
        foreach (var raw in message.Split('\n'))
        {
            string line = raw.Trim();
            int raised = line.IndexOf("Exception raised from ", StringComparison.Ordinal);
            if (raised >= 0)
            {
                line = line.Substring(0, raised).Trim();
                if (line.Length > 0) kept.Add(line);
                break;
            }
            if (line.StartsWith("frame #", StringComparison.Ordinal) || line.StartsWith("Traceback", StringComparison.Ordinal)) break;
            if (line.Length > 0) kept.Add(line);
        }
        var reason = new StringBuilder();
        foreach (var line in kept)
        {
            if (reason.Length > 0) reason.Append(' ');
            reason.Append(line);
        }
        return reason.Length > 0 ? reason.ToString() : message.Trim();
    }
}
