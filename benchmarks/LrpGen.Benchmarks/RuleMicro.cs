using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using LrpGen.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>Part of --profile: the backward steps of one layer as the generated code runs them today (calls into
/// LrpGen.Rules, in the generated order), against autograd's kernel for the same step and against a fused form
/// proposed in docs/performance.md, on the layer's shapes. Each proposal is checked to give the same values.</summary>
public static class RuleMicro
{
    private const int Repeats = 7;

    public static void Run(ModelShape shape)
    {
        long H = shape.Heads, KV = shape.KvHeads, T = shape.Tokens, D = shape.Hidden / shape.Heads, I = shape.Intermediate, C = shape.Hidden;
        double scaling = 1.0 / Math.Sqrt(D);
        var ctx = new LrpContext(new LrpOptions());
        using var gen = new Generator(11);
        using var scope = torch.NewDisposeScope();
        var scores = torch.randn(new long[] { 1, H, T, T }, generator: gen);
        var probs = scores.softmax(-1);
        var gProbs = torch.randn(new long[] { 1, H, T, T }, generator: gen);
        var gHead = torch.randn(new long[] { 1, H, T, D }, generator: gen);
        var v = torch.randn(new long[] { 1, H, T, D }, generator: gen);
        var q = torch.randn(new long[] { 1, H, T, D }, generator: gen);
        var kt = torch.randn(new long[] { 1, H, D, T }, generator: gen);
        var cos = torch.randn(new long[] { 1, 1, T, D }, generator: gen);
        var sin = torch.randn(new long[] { 1, 1, T, D }, generator: gen);
        var gMlp = torch.randn(new long[] { 1, T, I }, generator: gen);
        var silu = torch.randn(new long[] { 1, T, I }, generator: gen);
        var up = torch.randn(new long[] { 1, T, I }, generator: gen);
        var scale = torch.randn(new long[] { 1, T, I }, generator: gen);
        var upTimesScaleHalf = up.mul(scale).mul_(0.5);
        var gx = torch.randn(new long[] { 1, T, C }, generator: gen);
        var gy = torch.randn(new long[] { 1, T, C }, generator: gen);
        // The rules take gradients with a leading seed dimension (one seed here); their results drop it again.
        var gHeadSeeded = gHead.unsqueeze(0);
        var gProbsSeeded = gProbs.unsqueeze(0);
        var gMlpSeeded = gMlp.unsqueeze(0);

        var rows = new List<(string Step, string Variant, double Ms)>();
        void Add(string step, string variant, Func<Tensor> f, Tensor? expected = null)
        {
            double ms = Time(f);
            if (expected is not null)
            {
                using var got = f();
                double rel = Verification.Relative(got, expected);
                if (rel > 1e-4) throw new InvalidOperationException($"{step} / {variant}: differs from the current form by {rel:0.0e+00}");
            }
            rows.Add((step, variant, ms));
        }

        // Softmax (AttnLRP: the gradient), [1, H, T, T].
        using var softmaxNow = SoftmaxRule.Backward(gProbs, probs, -1);
        Add("softmax backward", "generated now (SoftmaxRule: 4 kernels, 3 temporaries)", () => SoftmaxRule.Backward(gProbs, probs, -1));
        Add("softmax backward", "autograd (softmax_backward_data)", () =>
        {
            using var enable = torch.enable_grad();
            using var x = scores.detach().requires_grad_(true);
            using var y = x.softmax(-1);
            return torch.autograd.grad(new[] { y }, new[] { x }, new[] { gProbs })[0];
        }, softmaxNow);
        Add("softmax backward", "proposed: s*g, then addcmul_(s, sum, -1) (1 temporary)", () =>
        {
            var sg = probs.mul(gProbs);
            using var total = sg.sum(-1, keepdim: true);
            return sg.addcmul_(probs, total, -1);
        }, softmaxNow);

        // probs @ v: the probs share, [1, H, T, T] <- [1, H, T, D] x [1, H, D, T].
        Tensor PvNow()
        {
            var (a, b) = ProductRule.MatmulBackward(ctx, gHeadSeeded, probs, v, probs.shape, v.shape, true, true, true, false, false);
            b?.Dispose();
            using (a) return a!.squeeze(0);
        }
        using var pvNow = PvNow();
        Add("probs@v backward (both shares)", "generated now (g@v^T and p^T@g, each then *0.5)", PvNow);
        Add("probs@v backward (both shares)", "proposed: 0.5*g once on [H,T,D], then the two matmuls", () =>
        {
            using var half = gHead.mul(0.5);
            using var vt = v.transpose(-2, -1);
            using var pt = probs.transpose(-2, -1);
            using var gv = pt.matmul(half);
            return half.matmul(vt);
        }, pvNow);

        // scores = q @ k^T * scaling (+ mask): g through the scale, then the q share of the matmul.
        Tensor QNow()
        {
            using var scaled = Adjoint.Scale(gProbsSeeded, scaling);
            var (a, b) = ProductRule.MatmulBackward(ctx, scaled, q, kt, q.shape, kt.shape, true, true, false, false, false);
            b?.Dispose();
            using (a) return a!.squeeze(0);
        }
        using var qNow = QNow();
        Add("q@k^T * scaling backward (both shares)", "generated now (new g*scaling on [H,T,T], then g@k and q^T@g, each *0.5)", QNow);
        Add("q@k^T * scaling backward (both shares)", "proposed: g@k and q^T@g, each *(0.5*scaling) on [H,T,D]", () =>
        {
            using var k = kt.transpose(-2, -1);
            using var qt = q.transpose(-2, -1);
            using var gk = qt.matmul(gProbs).mul_(0.5 * scaling);
            return gProbs.matmul(k).mul_(0.5 * scaling);
        }, qNow);

        // RoPE: x*cos + rotate_half(x)*sin, [1, H, T, D].
        Tensor RopeNow()
        {
            long half = D / 2;
            Tensor? gX = null;
            var (ga, _) = ProductRule.ElementwiseBackward(ctx, gHeadSeeded, null, cos, gHead.shape, cos.shape, true, false, false, false, false);
            Grad.Add(ref gX, ga);
            var (gr, _) = ProductRule.ElementwiseBackward(ctx, gHeadSeeded, null, sin, gHead.shape, sin.shape, true, false, false, false, false);
            var sizes = new[] { half, half };
            using (gr)
            {
                using var part0 = Adjoint.CatPart(gr!, -1, sizes, 0);
                using var part1 = Adjoint.CatPart(gr!, -1, sizes, 1);
                Grad.Add(ref gX, Adjoint.Narrow(part1, -1, 0, half, gHead.shape));
                using var neg = Adjoint.Negate(part0);
                Grad.Add(ref gX, Adjoint.Narrow(neg, -1, half, half, gHead.shape));
            }
            using (gX) return gX!.squeeze(0);
        }
        using var ropeNow = RopeNow();
        Add("RoPE backward", "generated now (11 steps: narrow = zeros + copy, cat part = copy, 3 allocating adds)", RopeNow);
        Add("RoPE backward", "proposed: g*cos - rotate_half(g*sin)", () =>
        {
            long half = D / 2;
            using var gs = gHead.mul(sin);
            using var hi = gs.narrow(-1, half, half);
            using var lo = gs.narrow(-1, 0, half);
            using var negLo = lo.neg();
            using var rt = torch.cat(new[] { hi, negLo }, -1);     // rotate_half^T (g*sin) = [z2, -z1]
            return gHead.mul(cos).add_(rt);
        }, ropeNow);

        // MLP: down's input gradient g through gate*up (uniform) and SiLU (identity), [1, T, I].
        Tensor MlpNow(out Tensor gUp)
        {
            var (ga, gb) = ProductRule.ElementwiseBackward(ctx, gMlpSeeded, silu, up, silu.shape, up.shape, true, true, true, false, false);
            gUp = gb!;
            using (ga)
            using (var g = ActivationRule.Backward(ga!, scale))
                return g.squeeze(0);
        }
        using var mlpGate = MlpNow(out var mlpUp);
        mlpUp.Dispose();
        Add("gate*up and SiLU backward", "generated now (saves silu, up, s: 3 [T,I]; 5 kernels)", () =>
        {
            var g = MlpNow(out var u);
            u.Dispose();
            return g;
        });
        Add("gate*up and SiLU backward", "proposed: saves silu and 0.5*up*s (2 [T,I]); 3 kernels", () =>
        {
            using var u = gMlp.mul(silu).mul_(0.5);
            return gMlp.mul(upTimesScaleHalf);
        }, mlpGate);

        // Accumulating the input gradient of the three projections (and residuals), [1, T, hidden].
        Add("gradient accumulation (x3)", "generated now (Grad.Add allocates a new sum)", () =>
        {
            Tensor? acc = gx.alias();
            Grad.Add(ref acc, gy.alias());
            Grad.Add(ref acc, gy.alias());
            Grad.Add(ref acc, gy.alias());
            return acc!;
        });
        Add("gradient accumulation (x3)", "proposed: add_ into an owned accumulator", () =>
        {
            var acc = gx.clone();
            acc.add_(gy).add_(gy).add_(gy);
            return acc;
        });

        // The floor: the matmuls alone of one layer (no weight gradients), as a dense-kernel bound for both passes.
        var x = torch.randn(new long[] { 1, T, C }, generator: gen);
        var wq = torch.randn(new long[] { H * D, C }, generator: gen);
        var wkv = torch.randn(new long[] { KV * D, C }, generator: gen);
        var wo = torch.randn(new long[] { C, H * D }, generator: gen);
        var wgu = torch.randn(new long[] { I, C }, generator: gen);
        var wd = torch.randn(new long[] { C, I }, generator: gen);
        var hI = torch.randn(new long[] { 1, T, I }, generator: gen);
        var gKv = torch.randn(new long[] { 1, T, KV * D }, generator: gen);
        var gQ = torch.randn(new long[] { 1, T, H * D }, generator: gen);
        Add("matmuls only (floor)", "forward: 7 projections + q@k^T + p@v", () =>
        {
            using var a = nn.functional.linear(x, wq); using var b = nn.functional.linear(x, wkv); using var c = nn.functional.linear(x, wkv);
            using var d = nn.functional.linear(gQ, wo); using var e = nn.functional.linear(x, wgu); using var f = nn.functional.linear(x, wgu);
            using var s1 = q.matmul(kt); using var pv = probs.matmul(v);
            return nn.functional.linear(hI, wd);
        });
        Add("matmuls only (floor)", "backward: 7 input gradients + 4 attention matmuls", () =>
        {
            using var a = gx.matmul(wo); using var b = gx.matmul(wd); using var c = gMlp.matmul(wgu); using var d = gMlp.matmul(wgu);
            using var e = gQ.matmul(wq); using var f = gKv.matmul(wkv); using var g = gKv.matmul(wkv);
            using var vt = v.transpose(-2, -1); using var pt = probs.transpose(-2, -1); using var k = kt.transpose(-2, -1); using var qt = q.transpose(-2, -1);
            using var m1 = gHead.matmul(vt); using var m2 = pt.matmul(gHead); using var m3 = gProbs.matmul(k);
            return qt.matmul(gProbs);
        });

        Console.WriteLine();
        Console.WriteLine($"Backward steps of one layer, {T} tokens (median CPU ms of {Repeats}; proposals checked equal to the current form):");
        Console.WriteLine();
        Console.WriteLine("| step | variant | CPU ms |");
        Console.WriteLine("| --- | --- | ---: |");
        foreach (var (step, variant, ms) in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {step} | {variant} | {ms:0.00} |"));
    }

    private static double Time(Func<Tensor> f)
    {
        f().Dispose(); // warm-up
        var times = new double[Repeats];
        for (int i = 0; i < Repeats; i++)
        {
            var c0 = CpuClock.NowMs();
            f().Dispose();
            times[i] = CpuClock.NowMs() - c0;
        }
        return MemoryProbe.Median(times);
    }
}
