using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Fuzzing.Generation;
using LrpGen.Fuzzing.Running;
using Xunit;

namespace LrpGen.Fuzzing;

/// <summary>Each failure the fuzzer found, as a fixed program (Regressions/NAME.cs, minimised by hand): it must
/// pass (or be rejected with LRP003 at the line marked "// reject: no rule").</summary>
public class RegressionTests
{
    /// <summary>All regression programs compiled together once (one compilation is most of the cost).</summary>
    private static readonly Lazy<Dictionary<string, (Outcome Outcome, string Detail)>> Outcomes = new(() =>
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Regressions");
        var programs = Directory.GetFiles(dir, "*.cs").OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => FuzzProgram.FromSource(Path.GetFileNameWithoutExtension(f), File.ReadAllText(f))).ToList();
        return FuzzRun.Of(programs).Results.ToDictionary(r => r.Program.Name, r => (r.Outcome, r.Detail));
    });

    [Theory]
    [InlineData("HygieneParameterCtx")]
    [InlineData("HygieneParameterOutput")]
    [InlineData("HygieneLocalTape")]
    [InlineData("HygieneParameterLrpForward")]
    [InlineData("HygieneFieldLrpTape")]
    [InlineData("RejectSinOnPath")]
    [InlineData("RejectCosOnPath")]
    [InlineData("ParameterReassigned")]
    [InlineData("ParameterReassignedInLoop")]
    [InlineData("DtypeOfDeadTensor")]
    [InlineData("DeadCausalSdpa")]
    [InlineData("LoopCarriedGate")]
    [InlineData("NegatedGate")]
    public void Regression(string name)
    {
        Assert.True(Outcomes.Value.TryGetValue(name, out var result), $"no program Regressions/{name}.cs");
        Assert.True(result.Outcome is Outcome.Passed or Outcome.RejectedAsExpected, $"{name}: {result.Outcome}: {result.Detail}");
    }

    [Fact]
    public void EveryRegressionProgramHasATest()
    {
        var tested = typeof(RegressionTests).GetMethod(nameof(Regression))!.GetCustomAttributes(typeof(InlineDataAttribute), false)
            .Cast<InlineDataAttribute>().Select(a => (string)a.GetData(null!).Single()[0]).ToHashSet();
        Assert.Equal(Outcomes.Value.Keys.OrderBy(k => k), Outcomes.Value.Keys.Where(tested.Contains).OrderBy(k => k));
    }
}
