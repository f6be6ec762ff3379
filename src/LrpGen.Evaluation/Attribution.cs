using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>Token relevance [T] of an <see cref="IExplainedInput"/> by any <see cref="AttributionMethod"/>. The LRP
/// methods and input x gradient use the model's generated pass; Integrated Gradients and SmoothGrad use TorchSharp
/// autograd through <see cref="IExplainedInput.Score"/>; rollout uses the attention probabilities. A token's relevance
/// is the sum over the hidden dimension of the relevance of its input embedding.</summary>
public static class Attribution
{
    /// <summary>The relevance of each token for the input's explained quantity.</summary>
    /// <param name="input">The explained input.</param>
    /// <param name="method">The method.</param>
    /// <param name="settings">Baseline settings (null: the defaults).</param>
    /// <param name="example">The example's index: mixed into the seed of the random baseline and of SmoothGrad.</param>
    public static float[] Explain(IExplainedInput input, AttributionMethod method, AttributionSettings? settings = null, int example = 0)
    {
        if (input is null) throw new ArgumentNullException(nameof(input));
        settings ??= new AttributionSettings();
        return method switch
        {
            AttributionMethod.AttnLrp => input.LrpRelevance(LrpMethod.AttnLrp),
            AttributionMethod.CpLrp => input.LrpRelevance(LrpMethod.CpLrp),
            AttributionMethod.InputXGradient => input.LrpRelevance(LrpMethod.Gradient),
            AttributionMethod.IntegratedGradients => IntegratedGradients(input, settings.IgSteps, settings.Batch),
            AttributionMethod.SmoothGrad => SmoothGrad(input, settings.SmoothGradSamples, settings.SmoothGradNoise, settings.Batch, Mix(settings.Seed, example)),
            AttributionMethod.AttentionRollout => Rollout(input),
            AttributionMethod.Random => RandomRelevance(input.Tokens.Count, Mix(settings.Seed, example)),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown attribution method"),
        };
    }

    /// <summary>Integrated Gradients with the all-zero embeddings as baseline: x * (1/m) sum_k grad f(alpha_k x),
    /// alpha_k = (k + 1/2) / m, k = 0..m-1 (midpoint rule), summed over the hidden dimension. Completeness:
    /// the relevance sums to about f(x) - f(0), the closer the more steps.</summary>
    public static float[] IntegratedGradients(IExplainedInput input, int steps = 32, int batch = 32)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least 1 step");
        using var scope = torch.NewDisposeScope();
        var x = input.Embeddings;
        var alphas = Enumerable.Range(0, steps).Select(k => (k + 0.5) / steps).ToArray();
        var sum = torch.zeros_like(x, dtype: GradType(x));
        for (int start = 0; start < steps; start += batch)
        {
            int n = Math.Min(batch, steps - start);
            var a = torch.tensor(alphas.Skip(start).Take(n).ToArray(), x.dtype, x.device).view(n, 1, 1);
            sum.add_(BatchGradient(input, a * x.unsqueeze(0)).sum(new long[] { 0 }));
        }
        return TokenSums(x.to(sum.dtype) * sum / steps);
    }

    /// <summary>SmoothGrad on input x gradient: x * (1/n) sum_i grad f(x + e_i), e_i ~ N(0, sigma^2) per embedding
    /// value with sigma = noise * (max(x) - min(x)) over the input's embedding values, summed over the hidden
    /// dimension. The noise comes from a generator seeded with <paramref name="seed"/>.</summary>
    public static float[] SmoothGrad(IExplainedInput input, int samples = 32, double noise = 0.1, int batch = 32, long seed = 1)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), samples, "at least 1 sample");
        using var scope = torch.NewDisposeScope();
        var x = input.Embeddings;
        double sigma = noise * (Scalar(x.max()) - Scalar(x.min()));
        var generator = new torch.Generator((ulong)seed, x.device);
        var sum = torch.zeros_like(x, dtype: GradType(x));
        for (int start = 0; start < samples; start += batch)
        {
            int n = Math.Min(batch, samples - start);
            var eps = torch.randn(new long[] { n, x.shape[0], x.shape[1] }, x.dtype, x.device, generator: generator);
            sum.add_(BatchGradient(input, x.unsqueeze(0) + eps * sigma).sum(new long[] { 0 }));
        }
        return TokenSums(x.to(sum.dtype) * sum / samples);
    }

    /// <summary>The gradient of each row's score with respect to that row's embeddings: [N, T, hidden].</summary>
    private static Tensor BatchGradient(IExplainedInput input, Tensor points)
    {
        using var enable = torch.enable_grad();
        using var leaf = points.detach().requires_grad_(true);
        using var scores = input.Score(leaf);
        using var total = scores.sum();
        var grads = torch.autograd.grad(new[] { total }, new[] { leaf });
        return grads[0].to(GradType(points));
    }

    /// <summary>Attention rollout of the input's attention probabilities, read out as the explained quantity reads
    /// the last layer.</summary>
    public static float[] Rollout(IExplainedInput input)
    {
        var probabilities = input.AttentionProbabilities();
        try
        {
            return AttentionRollout.Relevance(probabilities, input.Readout);
        }
        finally
        {
            foreach (var p in probabilities) p.Dispose();
        }
    }

    /// <summary>Uniform random numbers in [0, 1), one per token, from a seeded generator.</summary>
    public static float[] RandomRelevance(int tokens, long seed)
    {
        var random = new System.Random(unchecked((int)(seed ^ (seed >> 32))));
        var result = new float[tokens];
        for (int i = 0; i < tokens; i++) result[i] = (float)random.NextDouble();
        return result;
    }

    /// <summary>A per-example seed: the run's seed and the example's index mixed (SplitMix64 finaliser).</summary>
    internal static long Mix(int seed, int example)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)example + 1);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFUL);
    }

    private static double Scalar(Tensor t)
    {
        using var d = t.to(ScalarType.Float64).cpu();
        return d.item<double>();
    }

    private static ScalarType GradType(Tensor x) => x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    private static float[] TokenSums(Tensor relevance)
    {
        using var sums = relevance.sum(new long[] { -1 }).to(ScalarType.Float32).cpu();
        return sums.data<float>().ToArray();
    }
}
