using System;
using LrpGen.Tests.Reference;
using static TorchSharp.torch;

namespace LrpGen.Fuzzing;

/// <summary>One generated program, compiled with the generator: the module with its inputs (float64), the
/// generated pass, the plain forward, and the same forward with the rules injected into autograd.</summary>
public interface IFuzzCase : IDisposable
{
    /// <summary>The inputs that receive relevance, in the order of the forward's parameters.</summary>
    Tensor[] RelevanceInputs { get; }

    LrpPass Generated(LrpOptions options);

    Tensor Plain();

    /// <summary>The forward with the rules injected, on the given leaves in place of the relevance inputs.</summary>
    Tensor Reference(RuleInjection rules, Tensor[] leaves);
}
