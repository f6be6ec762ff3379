using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>--profile: where the time and the memory go. For the whole model and for each block of layer 0
/// (input RMSNorm, attention, MLP): the forward and the backward timed apart (median CPU time of 5), then, in a
/// second process with MALLOC_MMAP_THRESHOLD_ set so the resident set follows live tensors, the memory retained
/// between them (resident set after the forward minus before: the generated tape, or the tensors autograd saved), the
/// peak extra memory of each phase and the number of live tensor handles the forward leaves (Tensor.TotalCount).
/// Then the backward steps of one layer, rule by rule (<see cref="RuleMicro"/>).</summary>
public static class Profile
{
    private const int Repeats = 5;

    /// <summary>Times are CPU times of this process (user + system) in ms, the median over the repetitions.</summary>
    public sealed record Split(string Name, double ForwardMs, double BackwardMs, double RetainedMiB, double PeakForwardMiB, double PeakBackwardMiB, long LiveHandles)
    {
        public double TotalMs => ForwardMs + BackwardMs;
    }

    private static double CpuMs() => CpuClock.NowMs();

    public static int Run(ModelShape shape, int threads)
    {
        // Times here, with the allocator as it is; memory in a second process whose glibc returns every large block
        // at once (MALLOC_MMAP_THRESHOLD_), whose page faults would distort the times.
        bool memory = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null;
        Console.WriteLine($"profile ({(memory ? "memory" : "time")}): {shape}, float32, {threads} threads");
        using var work = new Workload(shape);
        foreach (var m in Workload.AllMethods) work.RunAndDrop(m); // warm-up

        var whole = new List<Split>
        {
            Measure("(1) forward (no_grad)", () => work.Forward(), logits => logits.Dispose()),
            Measure("(2) generated AttnLRP", () => work.Model.LrpForward(work.Embeds, work.Cos, work.Sin, work.Mask, work.Rows, new LrpOptions()),
                pass => { foreach (var r in pass.Backward(work.Weights)) r.Dispose(); pass.Dispose(); }),
            MeasureAutograd("(3) autograd x*grad", work, leaf => work.Reference.Logits(leaf, work.Inputs, rules: false), work.Weights),
            MeasureAutograd("(4) autograd + rules", work, leaf => work.Reference.Logits(leaf, work.Inputs, rules: true), work.Weights),
        };
        Print($"Whole model ({shape.Layers} layers, {shape.Tokens} tokens)", whole, memory);

        var layer = work.Model.layers[0];
        using var x = work.Embeds.alias();
        using var gen = new Generator(7);
        using var gHidden = torch.randn(x.shape, generator: gen);
        var blocks = new List<Split>
        {
            Measure("RMSNorm: generated", () => layer.input_layernorm.LrpForward(x, new LrpOptions()), pass => Backward(pass, gHidden)),
            MeasureAutograd("RMSNorm: autograd + rules", work, leaf => work.Reference.RmsNorm(leaf, layer.input_layernorm.weight, rules: true), gHidden),
            Measure("attention: generated", () => layer.self_attn.LrpForward(x, work.Cos, work.Sin, work.Mask, new LrpOptions()), pass => Backward(pass, gHidden)),
            MeasureAutograd("attention: autograd + rules", work, leaf => work.Reference.Attention(leaf, layer.self_attn, work.Inputs, rules: true), gHidden),
            Measure("MLP: generated", () => layer.mlp.LrpForward(x, new LrpOptions()), pass => Backward(pass, gHidden)),
            MeasureAutograd("MLP: autograd + rules", work, leaf => work.Reference.Mlp(leaf, layer.mlp, rules: true), gHidden),
            Measure("layer: generated", () => layer.LrpForward(x, work.Cos, work.Sin, work.Mask, new LrpOptions()), pass => Backward(pass, gHidden)),
        };
        Print($"Blocks of layer 0 ({shape.Tokens} tokens)", blocks, memory);
        if (memory) return 0;
        RuleMicro.Run(shape);
        return Restart();
    }

    private static void Backward(LrpPass pass, Tensor g)
    {
        foreach (var r in pass.Backward(g)) r.Dispose();
        pass.Dispose();
    }

    /// <summary>Times forward and backward apart; memory from the first repetition.</summary>
    private static Split Measure<T>(string name, Func<T> forward, Action<T> backward)
    {
        var f = new double[Repeats];
        var b = new double[Repeats];
        double retained = 0, peakF = 0, peakB = 0;
        long handles = 0;
        for (int i = 0; i < Repeats; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            double baseline = MemoryProbe.RssMiB;
            long count = Tensor.TotalCount;
            MemoryProbe.ResetPeak();
            double c0 = CpuMs();
            var state = forward();
            f[i] = CpuMs() - c0;
            if (i == 0)
            {
                peakF = MemoryProbe.HwmMiB - baseline;
                retained = MemoryProbe.RssMiB - baseline;
                handles = Tensor.TotalCount - count;
                MemoryProbe.ResetPeak();
            }
            c0 = CpuMs();
            backward(state);
            b[i] = CpuMs() - c0;
            if (i == 0) peakB = MemoryProbe.HwmMiB - baseline;
        }
        return new Split(name, MemoryProbe.Median(f), MemoryProbe.Median(b), retained, peakF, peakB, handles);
    }

    /// <summary>Forward with the graph (embeddings a leaf that requires grad), then autograd.grad and x * g.</summary>
    private static Split MeasureAutograd(string name, Workload work, Func<Tensor, Tensor> forward, Tensor gOutput) =>
        Measure(name,
            () =>
            {
                using var enable = torch.enable_grad();
                var leaf = work.Embeds.detach().requires_grad_(true);
                return (Leaf: leaf, Output: forward(leaf));
            },
            state =>
            {
                using var enable = torch.enable_grad();
                var grads = torch.autograd.grad(new[] { state.Output }, new[] { state.Leaf }, new[] { gOutput });
                using var g = grads[0];
                using var x = state.Leaf.detach();
                using var relevance = x.mul(g);
                state.Output.Dispose();
                state.Leaf.Dispose();
            });

    private static void Print(string title, IReadOnlyList<Split> rows, bool memory)
    {
        Console.WriteLine();
        Console.WriteLine(title + (memory ? ", memory (MiB over the resident set before the forward):" : ", median CPU time (ms):"));
        Console.WriteLine();
        if (memory)
        {
            Console.WriteLine("| pass | retained after forward | peak in forward | peak in backward | live tensor handles after forward |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            foreach (var r in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Name} | {r.RetainedMiB:0.0} | {r.PeakForwardMiB:0.0} | {r.PeakBackwardMiB:0.0} | {r.LiveHandles} |"));
        }
        else
        {
            Console.WriteLine("| pass | forward | backward | total |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var r in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.ForwardMs:0.0} | {r.BackwardMs:0.0} | {r.TotalMs:0.0} |"));
        }
    }

    /// <summary>Starts this mode again with glibc serving large blocks by mmap, and passes its output through.</summary>
    private static int Restart()
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { UseShellExecute = false };
        if (System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(Profile).Assembly.Location);
        foreach (var a in Environment.GetCommandLineArgs().Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment["MALLOC_MMAP_THRESHOLD_"] = MemoryProbe.MmapThreshold;
        Console.Out.Flush();
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
