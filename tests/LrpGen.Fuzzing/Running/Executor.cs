using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using LrpGen.Fuzzing.Generation;
using LrpGen.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Fuzzing.Running;

/// <summary>Runs compiled programs: the generated pass against the autograd reference with the rules injected,
/// in float64, for AttnLRP, CP-LRP and the gradient.</summary>
internal static class Executor
{
    public const double Tolerance = 1e-6;
    private const double ForwardTolerance = 1e-9;
    private const double AbsoluteFloor = 1e-4;
    private static readonly LrpMethod[] Methods = { LrpMethod.AttnLrp, LrpMethod.CpLrp, LrpMethod.Gradient };

    /// <summary>A load context that resolves TorchSharp, LrpGen and this assembly from the default context,
    /// so tensors and LrpPass are the same types on both sides; collectible, so batches do not accumulate.</summary>
    private sealed class BatchContext : AssemblyLoadContext
    {
        public BatchContext() : base("fuzz-batch", isCollectible: true) { }

        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }

    public static List<(FuzzProgram Program, Outcome Outcome, string Detail)> Run(byte[] assembly, IReadOnlyList<FuzzProgram> programs)
    {
        var results = new List<(FuzzProgram, Outcome, string)>();
        var context = new BatchContext();
        try
        {
            var loaded = context.LoadFromStream(new MemoryStream(assembly));
            foreach (var p in programs)
            {
                var type = loaded.GetType($"{FuzzProgram.NamespacePrefix}{p.Name}.Case", throwOnError: true)!;
                var (outcome, detail) = RunOne(type);
                results.Add((p, outcome, detail));
            }
        }
        finally
        {
            context.Unload();
        }
        return results;
    }

    private static (Outcome, string) RunOne(Type caseType)
    {
        using var scope = torch.NewDisposeScope();
        IFuzzCase fuzzCase;
        try
        {
            fuzzCase = (IFuzzCase)Activator.CreateInstance(caseType)!;
        }
        catch (Exception e)
        {
            return (Outcome.FuzzerError, "constructing the module: " + Inner(e));
        }
        using (fuzzCase)
        {
            Tensor plain;
            try
            {
                using (torch.no_grad()) plain = fuzzCase.Plain();
            }
            catch (Exception e)
            {
                return (Outcome.FuzzerError, "the plain forward throws: " + Inner(e));
            }
            foreach (var method in Methods)
            {
                Tensor[] expected;
                Tensor weights;
                try
                {
                    torch.manual_seed(7);
                    weights = torch.randn(plain.shape, ScalarType.Float64);
                    var rules = new RuleInjection(method);
                    expected = RuleInjection.InputsTimesGradient(fuzzCase.RelevanceInputs, leaves => fuzzCase.Reference(rules, leaves), weights);
                }
                catch (Exception e)
                {
                    return (Outcome.FuzzerError, $"[{method}] the reference throws: " + Inner(e));
                }
                if (expected.Any(t => !t.isfinite().all().item<bool>()))
                    return (Outcome.FuzzerError, $"[{method}] the reference is not finite");
                try
                {
                    using var pass = fuzzCase.Generated(new LrpOptions { Method = method });
                    var forward = Compare(pass.Output, plain, ForwardTolerance);
                    if (forward is not null) return (Outcome.Mismatch, $"[{method}] forward output: {forward}");
                    var relevance = pass.Backward(weights);
                    if (relevance.Count != expected.Length)
                        return (Outcome.Mismatch, $"[{method}] {relevance.Count} relevance tensors for {expected.Length} relevance inputs");
                    // Relevance that cancels to zero (a softmax's inputs under a constant target) is compared at
                    // the scale of the explained quantity instead of its own rounding noise; when that quantity is
                    // exactly zero (a LayerNorm over equal elements), at a scale of 1e-4: 1e-10 absolute, float64 rounding
                    // of the O(1) values the programs compute.
                    double floor = Math.Max(1e-6 * (plain * weights).abs().max().item<double>(), AbsoluteFloor);
                    for (int i = 0; i < expected.Length; i++)
                    {
                        var problem = Compare(relevance[i], expected[i], Tolerance, floor);
                        if (problem is not null) return (Outcome.Mismatch, $"[{method}] relevance of input {i}: {problem}");
                    }
                    // Three seeds in one backward: row s equals the backward of seed s.
                    var seeds = torch.randn(plain.shape.Prepend(3L).ToArray(), ScalarType.Float64);
                    var batched = pass.Backward(seeds);
                    for (int s = 0; s < 3; s++)
                    {
                        var single = pass.Backward(seeds[s]);
                        double rowFloor = Math.Max(1e-6 * (plain * seeds[s]).abs().max().item<double>(), AbsoluteFloor);
                        for (int i = 0; i < single.Count; i++)
                        {
                            var problem = Compare(batched[i][s], single[i], Tolerance, rowFloor);
                            if (problem is not null) return (Outcome.Mismatch, $"[{method}] seed {s} of 3 in one backward, input {i}: {problem}");
                        }
                    }
                }
                catch (Exception e)
                {
                    return (Outcome.Mismatch, $"[{method}] the generated pass throws: " + Inner(e));
                }
            }
        }
        return (Outcome.Passed, "");
    }

    /// <summary>Null when max |actual - expected| &lt;= tolerance x max |expected|, else what differs.</summary>
    private static string? Compare(Tensor actual, Tensor expected, double tolerance, double floor = 1e-12)
    {
        if (!actual.shape.SequenceEqual(expected.shape))
            return $"shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]";
        using var a = actual.to(ScalarType.Float64);
        using var e = expected.to(ScalarType.Float64);
        double scale = e.numel() == 0 ? 0 : e.abs().max().item<double>();
        double diff = a.numel() == 0 ? 0 : a.sub(e).abs().max().item<double>();
        if (double.IsNaN(diff)) return "NaN";
        return diff <= tolerance * Math.Max(scale, floor) ? null : $"max |diff| = {diff:E3}, max |expected| = {scale:E3}";
    }

    private static string Inner(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        var firstLine = e.Message.Split('\n')[0];
        return $"{e.GetType().Name}: {firstLine}";
    }
}
