using System;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>The fused attention (blocks of query rows) against the same module kept as separate operations
/// ([KeepAttentionMatrix]) and against autograd with the rules injected, in float64.</summary>
public class BlockAttentionTests
{
    private const ScalarType F64 = ScalarType.Float64;
    private const double Tolerance = 1e-6;

    public enum MaskKind { Causal, Padded, Bidirectional, CausalLowest, WindowLowest, LeftPaddedCausalLowest }

    /// <summary>An additive mask [B, 1, T, S]: the future (causal), the last key of the first sequence (padded), none.
    /// The -1e9 masks are above <see cref="Rules.AttentionKeyRange.BlockedAtOrBelow"/>: every block keeps every key.
    /// The "lowest" masks use float.MinValue, as the decoders do, so blocks leave keys out: the future, keys more than
    /// two positions back (a sliding window), and, left-padded, the first sequence's two padding keys, whose query rows
    /// see no key at all (their probabilities spread over every key, so their blocks keep every key).</summary>
    private static Tensor Mask(MaskKind kind, long b, long t, long s)
    {
        var mask = torch.zeros(b, 1, t, s, F64);
        double blocked = kind is MaskKind.Causal or MaskKind.Padded ? -1e9 : float.MinValue;
        if (kind is MaskKind.Causal or MaskKind.CausalLowest or MaskKind.WindowLowest or MaskKind.LeftPaddedCausalLowest)
        {
            using var future = torch.ones(t, s, ScalarType.Bool).triu(1);
            mask.masked_fill_(future, blocked);
        }
        if (kind == MaskKind.WindowLowest)
        {
            using var past = torch.ones(t, s, ScalarType.Bool).tril(-3);
            mask.masked_fill_(past, blocked);
        }
        if (kind == MaskKind.Padded)
            mask[0, 0, TensorIndex.Colon, s - 1] = torch.tensor(blocked, F64);
        if (kind == MaskKind.LeftPaddedCausalLowest)
            mask[0, 0, TensorIndex.Colon, TensorIndex.Slice(0, 2)] = torch.tensor(blocked, F64);
        return mask;
    }

    /// <summary>Budget giving exactly rowsPerBlock query rows per block (4 temporaries of 8-byte elements per row).</summary>
    private static long Budget(long b, long heads, long keys, long rowsPerBlock) => rowsPerBlock * b * heads * keys * 4 * 8;

    public static TheoryData<string, long, long, double, MaskKind, bool, long, LrpMethod> Cases()
    {
        var data = new TheoryData<string, long, long, double, MaskKind, bool, long, LrpMethod>();
        foreach (var method in ScenarioHarness.Methods)
        {
            data.Add("causal GQA, 3 rows per block of 7", 4, 2, 0, MaskKind.Causal, false, 3, method);
            data.Add("padded, one block", 4, 4, 0, MaskKind.Padded, false, 100, method);
            data.Add("bidirectional GQA, 1 row per block", 4, 1, 0, MaskKind.Bidirectional, false, 1, method);
            data.Add("cross-attention GQA, 2 rows per block", 4, 2, 0, MaskKind.Padded, true, 2, method);
            data.Add("soft-capped scores, causal", 4, 2, 0.5, MaskKind.Causal, false, 3, method);
            data.Add("causal at float.MinValue (future keys left out), 2 rows per block", 4, 2, 0, MaskKind.CausalLowest, false, 2, method);
            data.Add("sliding window of 3 (keys outside left out), 3 rows per block", 4, 2, 0, MaskKind.WindowLowest, false, 3, method);
            data.Add("left-padded causal, fully masked rows, 1 row per block", 4, 2, 0, MaskKind.LeftPaddedCausalLowest, false, 1, method);
            data.Add("soft-capped sliding window, 2 rows per block", 4, 4, 0.5, MaskKind.WindowLowest, false, 2, method);
        }
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void FusedEqualsFullMatrixAndAutograd(string name, long heads, long kvHeads, double softcap, MaskKind maskKind, bool cross, long rowsPerBlock, LrpMethod method)
    {
        const long B = 2, T = 7, D = 16;
        long S = cross ? 5 : T;
        torch.manual_seed(21);
        var fused = new DecoderStyleAttention(D, heads, kvHeads, softcap).to(F64);
        torch.manual_seed(21);
        var full = new DecoderStyleAttentionFull(D, heads, kvHeads, softcap).to(F64);
        torch.manual_seed(22);
        var x = torch.randn(B, T, D, F64);
        var context = cross ? torch.randn(B, S, D, F64) : x;
        var mask = Mask(maskKind, B, T, S);
        var options = new LrpOptions { Method = method, AttentionBlockBytes = Budget(B, heads, S, rowsPerBlock) };

        using var fusedPass = fused.LrpForward(x, context, mask, options);
        using var fullPass = full.LrpForward(x, context, mask, new LrpOptions { Method = method });
        Close.Relative(fusedPass.Output, fullPass.Output, 1e-12, $"{name} [{method}] forward");
        torch.manual_seed(23);
        var w = torch.randn(fusedPass.Output.shape, F64);
        var relevance = fusedPass.Backward(w);
        var expected = fullPass.Backward(w);
        for (int i = 0; i < expected.Count; i++)
            Close.Relative(relevance[i], expected[i], Tolerance, $"{name} [{method}] relevance of input {i} against the full matrix");

        // Autograd with the rules injected, as LXT does it.
        var r = new RuleInjection(method);
        var reference = RuleInjection.InputsTimesGradient(new[] { x, context }, xs => Reference(r, fused, xs[0], cross ? xs[1] : xs[0], mask), w);
        // Self-attention passes x twice: its relevance is the sum of both inputs' shares.
        var fusedTotal = cross ? relevance[0] : relevance[0] + relevance[1];
        var referenceTotal = cross ? reference[0] : reference[0] + reference[1];
        Close.Relative(fusedTotal, referenceTotal, Tolerance, $"{name} [{method}] relevance of x against autograd with rules");
        if (cross) Close.Relative(relevance[1], reference[1], Tolerance, $"{name} [{method}] relevance of the context against autograd with rules");
        ScenarioHarness.AssertNoLeaks(o => { o.AttentionBlockBytes = options.AttentionBlockBytes; return fused.LrpForward(x, context, mask, o); }, method, name);
    }

    /// <summary>Several seeds in one backward give, row by row, what one seed gives: fused (blocks of 3 rows of 7,
    /// soft-capped GQA cross-attention) and unfused.</summary>
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void SeedRowsMatchSingleSeeds(LrpMethod method)
    {
        torch.manual_seed(24);
        var fused = new DecoderStyleAttention(16, 4, 2, 0.5).to(F64);
        var full = new DecoderStyleAttentionFull(16, 4, 2, 0.5).to(F64);
        var x = torch.randn(2, 7, 16, F64);
        var context = torch.randn(2, 5, 16, F64);
        var mask = Mask(MaskKind.Padded, 2, 7, 5);
        SeedRows.Check(o => { o.AttentionBlockBytes = Budget(2, 4, 5, 3); return fused.LrpForward(x, context, mask, o); }, method, "fused attention");
        SeedRows.Check(o => full.LrpForward(x, context, mask, o), method, "full-matrix attention");
    }

    private static Tensor Reference(RuleInjection r, DecoderStyleAttention m, Tensor x, Tensor context, Tensor mask)
    {
        long B = x.shape[0], T = x.shape[1], S = context.shape[1], groups = m.heads / m.kvHeads;
        var q = m.q_proj.call(x).view(B, T, m.heads, m.headDim).transpose(1, 2);
        var k = m.k_proj.call(context).view(B, S, m.kvHeads, m.headDim).transpose(1, 2).repeat_interleave(groups, dim: 1);
        var v = m.v_proj.call(context).view(B, S, m.kvHeads, m.headDim).transpose(1, 2).repeat_interleave(groups, dim: 1);
        if (r.Method == LrpMethod.CpLrp) (q, k) = (q.detach(), k.detach());
        else if (r.Method == LrpMethod.AttnLrp) (q, k, v) = (r.DivideGradient(q, 4), r.DivideGradient(k, 4), r.DivideGradient(v, 2));
        var scores = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.Sqrt(m.headDim));
        if (m.softcap > 0) scores = r.Identity(s => DecoderStyleAttend.SoftCap(s, m.softcap), scores);
        var a = scores.add(mask).softmax(-1).matmul(v);
        return m.o_proj.call(a.transpose(1, 2).reshape(B, T, m.heads * m.headDim));
    }

    [Fact]
    public void RuleOverridesApplyInsideTheFusedAttention()
    {
        const long B = 1, T = 6, D = 8;
        torch.manual_seed(31);
        var fused = new DecoderStyleStack(D, 2, 1).to(F64);
        torch.manual_seed(31);
        var full = new DecoderStyleStackFull(D, 2, 1).to(F64);
        var x = torch.randn(B, T, D, F64);
        var mask = Mask(MaskKind.Causal, B, T, T);
        foreach (var overrides in new[] { ("layers.0", LrpRule.CpLrp), ("layers.1", LrpRule.Gradient) })
        {
            LrpOptions Options(long budget) => new()
            {
                AttentionBlockBytes = budget,
                RuleOverrides = new System.Collections.Generic.Dictionary<string, LrpRule> { [overrides.Item1] = overrides.Item2 },
            };
            using var fusedPass = fused.LrpForward(x, mask, Options(Budget(B, 2, T, 4)));
            using var fullPass = full.LrpForward(x, mask, Options(LrpOptions.DefaultAttentionBlockBytes));
            using var w = torch.ones_like(fusedPass.Output);
            Close.Relative(fusedPass.Backward(w)[0], fullPass.Backward(w)[0], Tolerance, $"override {overrides.Item1} = {overrides.Item2}");
            SeedRows.Check(o => fused.LrpForward(x, mask, o), () => Options(Budget(B, 2, T, 4)), $"fused stack, override {overrides.Item1}");
            SeedRows.Check(o => full.LrpForward(x, mask, o), () => Options(LrpOptions.DefaultAttentionBlockBytes), $"full stack, override {overrides.Item1}");
        }
    }

    /// <summary>A gradient with extra leading dimensions (several seeds at once) gives, per seed, what one seed gives.</summary>
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void BackwardBroadcastsOverLeadingGradientDimensions(LrpMethod method)
    {
        torch.manual_seed(41);
        var q = torch.randn(2, 4, 7, 3, F64);
        var k = torch.randn(2, 2, 5, 3, F64);
        var v = torch.randn(2, 2, 5, 3, F64);
        var mask = Mask(MaskKind.Padded, 2, 7, 5);
        var spec = new Rules.AttentionSpec(0.5, null, null, 2, 2, Causal: false);
        var ctx = new LrpContext(new LrpOptions { Method = method, AttentionBlockBytes = 1 });
        var g = torch.randn(new long[] { 3, 2, 4, 7, 3 }, F64);
        var (gq, gk, gv) = Rules.BlockAttention.Backward(ctx, g, q, k, v, mask, spec, true, true, true, false, false, false, false, false);
        for (int s = 0; s < 3; s++)
        {
            var (oq, ok, ov) = Rules.BlockAttention.Backward(ctx, g[s], q, k, v, mask, spec, true, true, true, false, false, false, false, false);
            if (method == LrpMethod.CpLrp)
            {
                Assert.Null(gq);
                Assert.Null(gk);
            }
            else
            {
                Close.Relative(gq![s], oq!, 1e-12, $"g_q of seed {s}");
                Close.Relative(gk![s], ok!, 1e-12, $"g_k of seed {s}");
            }
            Close.Relative(gv![s], ov!, 1e-12, $"g_v of seed {s}");
        }
    }

    [Fact]
    public void CausalFlagMatchesTheCausalMask()
    {
        torch.manual_seed(42);
        var q = torch.randn(1, 2, 6, 4, F64);
        var k = torch.randn(1, 2, 6, 4, F64);
        var v = torch.randn(1, 2, 6, 4, F64);
        var ctx = new LrpContext(new LrpOptions { AttentionBlockBytes = 1 });
        double scale = 1 / Math.Sqrt(4);
        using var flagged = Rules.BlockAttention.Forward(ctx, q, k, v, null, new Rules.AttentionSpec(scale, null, null, 1, 1, Causal: true));
        using var masked = Rules.BlockAttention.Forward(ctx, q, k, v, Mask(MaskKind.Causal, 1, 6, 6), new Rules.AttentionSpec(scale, null, null, 1, 1, Causal: false));
        using var plain = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        Close.Relative(flagged, plain, 1e-12, "causal flag against scaled_dot_product_attention");
        Close.Relative(masked, plain, 1e-12, "additive causal mask against scaled_dot_product_attention");
    }

    [Theory, InlineData(0L), InlineData(-5L)]
    public void BudgetMustBePositive(long budget)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LrpOptions { AttentionBlockBytes = budget });
        Assert.Contains("AttentionBlockBytes must be a positive number of bytes", error.Message);
    }
}
