using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>Many seeds in one backward: weights [S, ...output shape] against S separate backwards.</summary>
public static class SeedRows
{
    /// <summary>The seed counts every scenario runs with.</summary>
    public static readonly int[] Counts = { 1, 3, 7 };

    public const double Tolerance = 1e-6;

    /// <summary>For S = 1, 3 and 7 random seeds: one backward with [S, ...] weights, row s against a backward with
    /// weights[s] (inputs and latents), and the batched backward leaks nothing.</summary>
    public static void Check(Func<LrpOptions, LrpPass> generated, LrpMethod method, string scenario) =>
        Check(generated, () => new LrpOptions { Method = method }, $"{scenario} [{method}]");

    /// <param name="latentSeedShapes">Points to seed as well (per row), with the shape of the value there.</param>
    public static void Check(Func<LrpOptions, LrpPass> generated, Func<LrpOptions> options, string what,
        IReadOnlyDictionary<string, long[]>? latentSeedShapes = null)
    {
        SeedCoverage.StopWhenRecording(generated);
        using (var scope = torch.NewDisposeScope())
        {
            using var pass = generated(options());
            foreach (int count in Counts)
            {
                torch.manual_seed(1000 + count);
                var weights = torch.randn(Seeded(count, pass.Output.shape), pass.Output.dtype);
                var latentSeeds = latentSeedShapes?.ToDictionary(kv => kv.Key, kv => torch.randn(Seeded(count, kv.Value), pass.Output.dtype));
                var batched = pass.Explain(weights, latentSeeds);
                for (int s = 0; s < count; s++)
                {
                    var single = pass.Explain(weights[s], latentSeeds?.ToDictionary(kv => kv.Key, kv => kv.Value[s]));
                    Assert.Equal(single.Inputs.Count, batched.Inputs.Count);
                    for (int i = 0; i < single.Inputs.Count; i++)
                        Close.Relative(batched.Inputs[i][s], single.Inputs[i], Tolerance, $"{what} S = {count}, row {s}, input {i}");
                    Assert.Equal(new SortedSet<string>(single.Latents.Keys), new SortedSet<string>(batched.Latents.Keys));
                    foreach (var (point, latent) in single.Latents)
                        Close.Relative(batched.Latents[point][s], latent, Tolerance, $"{what} S = {count}, row {s}, latent {point}");
                }
            }
        }
        AssertNoLeaks(generated, options, what);
    }

    /// <summary>A pass with a batched backward leaves exactly as many tensors alive as before.</summary>
    private static void AssertNoLeaks(Func<LrpOptions, LrpPass> generated, Func<LrpOptions> options, string what)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = Tensor.TotalCount;
        using (var pass = generated(options()))
        {
            using var weights = torch.ones(Seeded(3, pass.Output.shape), pass.Output.dtype);
            var explanation = pass.Explain(weights);
            foreach (var r in explanation.Inputs) r.Dispose();
            foreach (var r in explanation.Latents.Values) r.Dispose();
        }
        Assert.True(Tensor.TotalCount == before, $"{what}: {Tensor.TotalCount - before} tensors leaked by a backward with 3 seeds");
    }

    public static long[] Seeded(long count, long[] shape) => shape.Prepend(count).ToArray();
}

/// <summary>Which scenario modules the seed checks reach. The completeness test runs every test that calls
/// <see cref="ScenarioHarness.Check"/> or <see cref="SeedRows.Check(Func{LrpOptions, LrpPass}, Func{LrpOptions}, string, IReadOnlyDictionary{string, long[]}?)"/>
/// in recording mode: the call records the [LrpModule] instances its pass runs on and stops the test there.</summary>
internal static class SeedCoverage
{
    [ThreadStatic] private static HashSet<Type>? _recorded;

    /// <summary>Thrown where a recorded test would run its pass.</summary>
    internal sealed class Recorded : Exception
    {
    }

    /// <summary>In recording mode: records the modules the pass factory captures and stops the test.</summary>
    public static void StopWhenRecording(Delegate generated)
    {
        if (_recorded is null) return;
        if (generated.Target is { } target)
        {
            if (IsLrpModule(target.GetType())) _recorded.Add(target.GetType());
            foreach (var field in target.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                if (field.GetValue(target) is { } value && IsLrpModule(value.GetType())) _recorded.Add(value.GetType());
        }
        throw new Recorded();
    }

    public static bool IsLrpModule(Type type) => type.GetCustomAttribute<LrpModuleAttribute>() is not null;

    /// <summary>Runs a test method in recording mode and returns the module types it reached.</summary>
    public static HashSet<Type> Record(MethodInfo test)
    {
        _recorded = new HashSet<Type>();
        try
        {
            var data = test.GetCustomAttributes<InlineDataAttribute>().FirstOrDefault()?.GetData(test).First() ?? Array.Empty<object>();
            var instance = test.IsStatic ? null : Activator.CreateInstance(test.DeclaringType!);
            try
            {
                test.Invoke(instance, data);
            }
            catch (TargetInvocationException e) when (e.InnerException is Recorded)
            {
            }
            return _recorded;
        }
        finally
        {
            _recorded = null;
        }
    }

    /// <summary>Whether a method's body calls one of <paramref name="targets"/> (scanning its IL for call tokens).</summary>
    public static bool Calls(MethodInfo method, IReadOnlyCollection<MethodBase> targets)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) return false;
        for (int i = 0; i + 4 < il.Length; i++)
        {
            if (il[i] != 0x28) continue; // call
            try
            {
                var callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1));
                if (callee is not null && targets.Contains(callee)) return true;
            }
            catch (ArgumentException)
            {
                // Not a method token: the byte was an operand.
            }
        }
        return false;
    }

    /// <summary>The [LrpModule] types a module type holds as children (fields, module lists), at any depth.</summary>
    public static IEnumerable<Type> Children(Type module)
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>(new[] { module });
        while (pending.Count > 0)
        {
            var type = pending.Pop();
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                foreach (var candidate in field.FieldType.GetGenericArguments().Prepend(field.FieldType))
                    if (IsLrpModule(candidate) && seen.Add(candidate)) pending.Push(candidate);
        }
        return seen;
    }
}

public class SeedDimensionTests
{
    private const ScalarType F64 = ScalarType.Float64;

    /// <summary>Every [LrpModule] scenario runs under the seed check: the scenario harness runs it for every scenario
    /// test, so a scenario added later is covered as soon as it has a test; a scenario module that no seed check
    /// reaches (directly or as a child) fails here.</summary>
    [Fact]
    public void EveryScenarioModuleRunsWithSeeds()
    {
        var assembly = typeof(SeedDimensionTests).Assembly;
        var checks = typeof(ScenarioHarness).GetMethods().Where(m => m.Name == nameof(ScenarioHarness.Check))
            .Concat(typeof(SeedRows).GetMethods().Where(m => m.Name == nameof(SeedRows.Check))).Cast<MethodBase>().ToList();
        var covered = new HashSet<Type>();
        var tests = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null && SeedCoverage.Calls(m, checks))
            .ToList();
        Assert.True(tests.Count >= 20, $"only {tests.Count} scenario tests found: the IL scan is broken");
        foreach (var test in tests)
            foreach (var type in SeedCoverage.Record(test))
                covered.UnionWith(SeedCoverage.Children(type).Append(type));
        var scenarios = assembly.GetTypes().Where(t => t.Namespace == typeof(LinearChain).Namespace && SeedCoverage.IsLrpModule(t));
        var missing = scenarios.Where(t => !covered.Contains(t)).Select(t => t.Name).OrderBy(n => n).ToList();
        Assert.True(missing.Count == 0, $"scenario modules no seed check reaches (test them with ScenarioHarness.Check or SeedRows.Check): {string.Join(", ", missing)}");
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.Gradient)]
    public void GammaLayers(LrpMethod method)
    {
        torch.manual_seed(43);
        var m = new GammaNet().to(F64);
        var x = torch.randn(2, 2, 4, 4, F64);
        SeedRows.Check(o => m.LrpForward(x, o), method, nameof(GammaNet));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void CheckpointingWithLatents(LrpMethod method)
    {
        torch.manual_seed(51);
        var m = new TinyLm(20, 16, 3).to(F64);
        var ids = torch.tensor(new long[,] { { 3, 1, 4, 1, 5, 9 } });
        SeedRows.Check(o => m.LrpForward(ids, o),
            () => new LrpOptions { Method = method, Checkpointing = true, Latents = new[] { "attentions.*", "mlps.1.fc2" } },
            $"TinyLm checkpointed [{method}]");
    }

    [Fact]
    public void LatentSeedsInterventionsAndOverrides()
    {
        torch.manual_seed(31);
        var m = new BlockStack(8, 12, 3).to(F64);
        var x = torch.randn(2, 4, 8, F64);
        SeedRows.Check(o => m.LrpForward(x, o), () => new LrpOptions
        {
            Latents = new[] { "blocks.*", "blocks.1.fc2" },
            Interventions = new Dictionary<string, Func<Tensor, Tensor>> { ["blocks.2.fc2"] = n => n.mul(0.5) },
            RuleOverrides = new Dictionary<string, LrpRule> { ["blocks.0"] = LrpRule.Gradient, ["**.fc2"] = LrpRule.Epsilon(0.1), ["blocks.2.fc1"] = LrpRule.Gamma(0.25) },
        }, "BlockStack with latents, seeds, an intervention and overrides", new Dictionary<string, long[]>
        {
            ["blocks.1.fc2"] = new long[] { 2, 4, 12 },
            ["blocks.0"] = new long[] { 2, 4, 8 },
        });
    }

    [Fact]
    public void RuleOverridesOnAttention()
    {
        torch.manual_seed(9);
        var m = new TinyLm(20, 16, 2).to(F64);
        var ids = torch.tensor(new long[,] { { 3, 1, 4, 1, 5, 9 }, { 2, 6, 5, 3, 5, 8 } });
        SeedRows.Check(o => m.LrpForward(ids, o), () => new LrpOptions
        {
            Method = LrpMethod.CpLrp,
            RuleOverrides = new Dictionary<string, LrpRule> { ["attentions.1"] = LrpRule.AttnLrp, ["mlps.0"] = LrpRule.Gradient },
        }, "TinyLm with overrides");
    }

    /// <summary>Chunks of at most k seeds, or chunks under a memory budget, give the rows of one backward.</summary>
    [Fact]
    public void ChunksGiveTheSameRows()
    {
        torch.manual_seed(9);
        var m = new TinyLm(20, 16, 2).to(F64);
        var ids = torch.tensor(new long[,] { { 3, 1, 4, 1, 5, 9 }, { 2, 6, 5, 3, 5, 8 } });
        var latents = new[] { "attentions.0", "mlps.1.fc2" };
        using var whole = m.LrpForward(ids, new LrpOptions { Latents = latents });
        var weights = torch.randn(7, 2, 20, F64);
        var expected = whole.Explain(weights);
        foreach (var options in new[]
        {
            new LrpOptions { Latents = latents, MaxSeedsPerBackward = 3 },
            new LrpOptions { Latents = latents, MaxSeedsPerBackward = 1 },
            // 6 x 6 scores of 2 x 2 heads, float64: one seed's largest gradient is a few KiB.
            new LrpOptions { Latents = latents, SeedMemoryBudget = 40_000 },
        })
        {
            using var pass = m.LrpForward(ids, options);
            var chunked = pass.Explain(weights);
            string what = $"chunks (max {options.MaxSeedsPerBackward}, budget {options.SeedMemoryBudget})";
            Close.Relative(chunked.Inputs[0], expected.Inputs[0], 1e-12, what);
            foreach (var (point, latent) in expected.Latents) Close.Relative(chunked.Latents[point], latent, 1e-12, $"{what} at {point}");
        }
    }

    [Fact]
    public void ChunkOptionsAreValidated()
    {
        var few = Assert.Throws<ArgumentOutOfRangeException>(() => new LrpOptions { MaxSeedsPerBackward = 0 });
        Assert.Contains("MaxSeedsPerBackward must be at least 1", few.Message);
        var budget = Assert.Throws<ArgumentOutOfRangeException>(() => new LrpOptions { SeedMemoryBudget = -1 });
        Assert.Contains("SeedMemoryBudget must be a positive number of bytes", budget.Message);
    }

    [Fact]
    public void WeightsOfAnotherShapeAreAOneLineErrorNamingBothShapes()
    {
        torch.manual_seed(1);
        var m = new LinearChain(6, 10, 4, bias: true).to(F64);
        var x = torch.randn(3, 6, F64);
        using var pass = m.LrpForward(x);
        foreach (var shape in new[] { new long[] { 3, 5 }, new long[] { 2, 3, 5 }, new long[] { 2, 2, 3, 4 } })
        {
            var error = Assert.Throws<ArgumentException>(() => pass.Backward(torch.ones(shape, F64)));
            Assert.Contains($"weights of shape [{string.Join(", ", shape)}] fit neither the output shape [3, 4] nor [S, 3, 4]", error.Message);
            Assert.DoesNotContain("\n", error.Message.Split(" (Parameter")[0]);
        }
        var none = Assert.Throws<ArgumentException>(() => pass.Backward(torch.ones(0, 3, 4, F64)));
        Assert.Contains("S = 0", none.Message);

        var latentPass = new BlockStack(8, 12, 3).to(F64).LrpForward(torch.randn(2, 4, 8, F64));
        var seed = Assert.Throws<ArgumentException>(() => latentPass.Explain(torch.ones(3, 2, 4, 8, F64),
            new Dictionary<string, Tensor> { ["blocks.0"] = torch.ones(2, 4, 8, F64) }));
        Assert.Contains("The latent seed at 'blocks.0' has shape [2, 4, 8]: with weights for 3 seeds it needs the leading dimension 3", seed.Message);
        latentPass.Dispose();
    }

    /// <summary>Weights that broadcast to the output stay one seed (as before), also with a leading size-1 dim.</summary>
    [Fact]
    public void BroadcastWeightsAreOneSeed()
    {
        torch.manual_seed(1);
        var m = new LinearChain(6, 10, 4, bias: true).to(F64);
        var x = torch.randn(3, 6, F64);
        using var pass = m.LrpForward(x);
        var row = torch.randn(4, F64);
        var broadcast = pass.Backward(row)[0];
        var full = pass.Backward(row.expand(3, 4))[0];
        Assert.Equal(new long[] { 3, 6 }, broadcast.shape);
        Close.Relative(broadcast, full, 0, "broadcast weights");
        var seeded = pass.Backward(row.unsqueeze(0).unsqueeze(0))[0];
        Assert.Equal(new long[] { 1, 3, 6 }, seeded.shape);
        Close.Relative(seeded[0], full, 0, "one seed with broadcast rows");
    }
}
