using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>Named fixture tensors that are disposed together, so tests free native memory deterministically.</summary>
internal sealed class TensorSet : Dictionary<string, Tensor>, IDisposable
{
    public TensorSet() : base(StringComparer.Ordinal) { }

    public void Dispose()
    {
        foreach (var tensor in Values) tensor.Dispose();
        Clear();
    }
}
