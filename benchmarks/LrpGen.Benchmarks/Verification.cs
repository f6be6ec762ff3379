using System;
using System.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>Checks that the compared methods do equal work: (2) the generated AttnLRP pass and (4) autograd with the
/// rules injected give the same relevance (max |a - b| / max |b| at most 1e-4 in float32); so do the generated
/// memory-saving mode (LrpOptions.Checkpointing) and (2), and (3) autograd input x gradient and the generated pass with <see cref="LrpMethod.Gradient"/>.
/// The eager forward (1) gives the module's logits.</summary>
public static class Verification
{
    public const double Tolerance = 1e-4;

    public static void Check(Workload work, TextWriter log)
    {
        using var noGrad = torch.no_grad();
        using var generated = work.Run(Method.AttnLrp)!;
        using var rules = work.Run(Method.AutogradRules)!;
        using var checkpointed = work.Run(Method.AttnLrpCheckpointed)!;
        using var gradX = work.Run(Method.AutogradGradX)!;
        using var generatedGradient = work.GeneratedRelevance(new LrpOptions { Method = LrpMethod.Gradient });
        using var logits = work.Forward();
        using var moduleLogits = work.ModuleForward();
        var checks = new (string Name, Tensor A, Tensor B)[]
        {
            ("(2) generated AttnLRP vs (4) autograd + rules", generated, rules),
            ("generated checkpointed vs (2)", checkpointed, generated),
            ("(3) autograd input x gradient vs generated Gradient", gradX, generatedGradient),
            ("(1) eager forward vs module forward (logits)", logits, moduleLogits),
        };
        foreach (var (name, a, b) in checks)
        {
            double rel = Relative(a, b);
            log.WriteLine($"verify {work.Shape.Tokens} tokens, {work.Shape.Layers} layers: {name}: max rel. difference {rel:0.0e+00} (relevance sum {Sum(a):0.0000} vs {Sum(b):0.0000})");
            if (!(rel <= Tolerance))
                throw new InvalidOperationException($"{name}: relevance differs by {rel:0.0e+00} (> {Tolerance:0e+00}): the benchmark would not compare equal work.");
        }
    }

    public static double Relative(Tensor a, Tensor b)
    {
        using var diff = a.sub(b);
        using var absDiff = diff.abs();
        using var maxDiff = absDiff.max();
        using var absB = b.abs();
        using var maxB = absB.max();
        return maxDiff.item<float>() / Math.Max(maxB.item<float>(), 1e-30);
    }

    private static double Sum(Tensor t)
    {
        using var s = t.sum();
        return s.item<float>();
    }
}
