using System;
using System.Collections.Generic;

namespace LrpGen.Models.Decoders;

/// <summary>Picks the next token from one row of logits as <see cref="GenerationOptions"/> says: the top logit (the
/// first on a tie, as argmax does), or a draw from softmax(logits / temperature) restricted to the top K and then to
/// the smallest set of most probable tokens whose probabilities reach P (the token that crosses P is kept, so at least
/// one token always is), renormalised. Computed in float64 on the CPU, so a seed draws the same tokens on any device.</summary>
public static class TokenSampler
{
    public static long Next(ReadOnlySpan<float> logits, GenerationOptions options, Random? random)
    {
        if (logits.Length == 0) throw new ArgumentException("no logits to pick a token from.", nameof(logits));
        if (!options.Sampling) return ArgMax(logits);
        if (random is null) throw new ArgumentNullException(nameof(random), "sampling needs a random generator.");
        var probabilities = Probabilities(logits, options);
        double u = random.NextDouble(), cumulative = 0;
        int last = -1;
        for (int i = 0; i < probabilities.Length; i++)
        {
            if (probabilities[i] <= 0) continue;
            last = i;
            cumulative += probabilities[i];
            if (u < cumulative) return i;
        }
        return last;   // u beyond the rounded total: the last token with mass
    }

    /// <summary>The distribution a sampling step draws from: zero outside the kept tokens, summing to 1.</summary>
    public static double[] Probabilities(ReadOnlySpan<float> logits, GenerationOptions options)
    {
        int n = logits.Length;
        var p = new double[n];
        double max = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            if (float.IsNaN(logits[i])) throw new ArgumentException($"logit {i} is NaN: the model's output cannot be sampled.", nameof(logits));
            max = Math.Max(max, logits[i]);
        }
        double temperature = options.Sampling ? options.Temperature : 1;
        double total = 0;
        for (int i = 0; i < n; i++) total += p[i] = Math.Exp((logits[i] - max) / temperature);
        for (int i = 0; i < n; i++) p[i] /= total;

        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        // Most probable first; ties by index, so the kept set does not depend on the sort's stability.
        Array.Sort(order, (a, b) => p[a] != p[b] ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        int keep = n;
        if (options.TopK is int k) keep = Math.Min(keep, k);
        if (options.TopP is double topP)
        {
            double cumulative = 0;
            for (int r = 0; r < keep; r++)
            {
                cumulative += p[order[r]];
                if (cumulative >= topP) { keep = r + 1; break; }
            }
        }
        var kept = new double[n];
        double keptTotal = 0;
        for (int r = 0; r < keep; r++) keptTotal += kept[order[r]] = p[order[r]];
        for (int r = 0; r < keep; r++) kept[order[r]] /= keptTotal;
        return kept;
    }

    private static long ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (float.IsNaN(logits[i])) throw new ArgumentException($"logit {i} is NaN: the model's output has no top token.", nameof(logits));
            if (logits[i] > logits[best]) best = i;
        }
        if (float.IsNaN(logits[0])) throw new ArgumentException("logit 0 is NaN: the model's output has no top token.", nameof(logits));
        return best;
    }
}
