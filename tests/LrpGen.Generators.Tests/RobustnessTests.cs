using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>The generator never throws, whatever the source: truncated, with tokens removed, or half-typed.</summary>
public class RobustnessTests
{
    /// <summary>Every scenario cut at many points and with lines dropped: hundreds of malformed sources.</summary>
    public static IEnumerable<object[]> Corpus()
    {
        var random = new Random(1234);
        foreach (var (path, source) in GeneratorHarness.Scenarios())
        {
            for (int cut = source.Length / 9; cut < source.Length; cut += source.Length / 9)
                yield return new object[] { $"{path} cut at {cut}", source.Substring(0, cut) };
            var lines = source.Split('\n');
            for (int k = 0; k < 12; k++)
            {
                int drop = random.Next(lines.Length);
                yield return new object[] { $"{path} without line {drop + 1}", string.Join("\n", lines.Where((_, i) => i != drop)) };
            }
            // Half-typed: an identifier mangled in the middle of forward.
            int at = source.IndexOf("forward(", StringComparison.Ordinal);
            if (at > 0)
                yield return new object[] { $"{path} half-typed", source.Substring(0, at + 8) + "Tens x, [NoRelevance] in" + source.Substring(at + 8) };
        }
        yield return new object[] { "empty LrpModule", "[LrpGen.LrpModule] partial class E { }" };
        yield return new object[] { "attribute on a record", "[LrpGen.LrpModule] partial record R(int A);" };
        yield return new object[] { "forward is a property", "[LrpGen.LrpModule] partial class P : TorchSharp.torch.nn.Module { P() : base(\"p\") {} TorchSharp.torch.Tensor forward => null!; }" };
        yield return new object[] { "recursive helper", GeneratorHarness.Usings + "[LrpModule] partial class Q : nn.Module<Tensor, Tensor> { Q() : base(\"q\") {} Tensor H(Tensor x) => H(x) * 2; public override Tensor forward(Tensor x) => H(x); }" };
        yield return new object[] { "lambda in forward", GeneratorHarness.Usings + "[LrpModule] partial class L : nn.Module<Tensor, Tensor> { L() : base(\"l\") {} public override Tensor forward(Tensor x) { Func<Tensor, Tensor> f = t => t * 2; return f(x); } }" };
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void GeneratorNeverThrows(string name, string source)
    {
        // Only the modules other scenarios build on, so the malformed one still sees real child types.
        var sources = GeneratorHarness.Scenarios()
            .Where(s => (s.Path.EndsWith("Residual.cs") || s.Path.EndsWith("GqaAttention.cs")) && !name.StartsWith(s.Path, StringComparison.Ordinal))
            .ToList();
        sources.Add(("Malformed.cs", source));
        var run = GeneratorHarness.Generate(GeneratorHarness.Compile(sources.ToArray()));
        Assert.Null(run.Result.Exception);
        Assert.DoesNotContain(run.Result.Diagnostics, d => d.Id == "LRP009");
    }
}
