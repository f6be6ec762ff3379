using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>The explained quantity while tokens are removed one at a time: <c>Morf[k]</c> and <c>Lerf[k]</c> are its
/// values after removing the k most relevant and the k least relevant tokens (k = 0..T; index 0 is the unperturbed
/// input, index T has every token removed).</summary>
public sealed record PerturbationCurves(double[] Morf, double[] Lerf)
{
    /// <summary>The unperturbed value f(x).</summary>
    public double Unperturbed => Morf[0];

    /// <summary>Area under the MoRF curve normalised by f(x) (see <see cref="Perturbation.Area"/>).</summary>
    public double AreaMorf => Perturbation.Area(Morf) / Unperturbed;

    /// <summary>Area under the LeRF curve normalised by f(x).</summary>
    public double AreaLerf => Perturbation.Area(Lerf) / Unperturbed;

    /// <summary>ABPC = (area(LeRF) - area(MoRF)) / f(x).</summary>
    public double Abpc => Perturbation.Abpc(Morf, Lerf);
}

/// <summary>Perturbation faithfulness. A token is removed by zeroing its input embedding (as the AttnLRP authors do).
/// The area of a curve y_0..y_T is the trapezoid rule over the fraction of tokens removed, x_k = k / T:
/// area(y) = (1/T) sum_{k=1..T} (y_{k-1} + y_k) / 2. ABPC (area between the perturbation curves) =
/// (area(LeRF) - area(MoRF)) / y_0: larger is better; a random order scores about 0.</summary>
public static class Perturbation
{
    /// <summary>The removal order: positions by relevance, most relevant first (ties: lower position first).</summary>
    public static int[] MostRelevantFirst(IReadOnlyList<float> relevance)
    {
        if (relevance is null) throw new ArgumentNullException(nameof(relevance));
        return Enumerable.Range(0, relevance.Count).OrderByDescending(i => relevance[i]).ThenBy(i => i).ToArray();
    }

    /// <summary>The removal order: least relevant first (ties: lower position first).</summary>
    public static int[] LeastRelevantFirst(IReadOnlyList<float> relevance)
    {
        if (relevance is null) throw new ArgumentNullException(nameof(relevance));
        return Enumerable.Range(0, relevance.Count).OrderBy(i => relevance[i]).ThenBy(i => i).ToArray();
    }

    /// <summary>Both curves for one input and its token relevance: 2 (T + 1) evaluations of the explained quantity,
    /// in batches of <paramref name="batch"/>, without autograd.</summary>
    public static PerturbationCurves Curves(IExplainedInput input, IReadOnlyList<float> relevance, int batch = 32)
    {
        if (input is null) throw new ArgumentNullException(nameof(input));
        int t = input.Tokens.Count;
        if (relevance.Count != t) throw new ArgumentException($"{relevance.Count} relevance values for {t} tokens.", nameof(relevance));
        var orders = new[] { MostRelevantFirst(relevance), LeastRelevantFirst(relevance) };
        // Row r of the keep mask: order o = r / (T + 1) with its first k = r % (T + 1) tokens removed.
        int rows = 2 * (t + 1);
        var keep = new float[rows * t];
        for (int r = 0; r < rows; r++)
        {
            var order = orders[r / (t + 1)];
            int k = r % (t + 1);
            for (int j = 0; j < t; j++) keep[r * t + j] = 1f;
            for (int j = 0; j < k; j++) keep[r * t + order[j]] = 0f;
        }
        var values = new double[rows];
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var x = input.Embeddings;
            var mask = torch.tensor(keep, new long[] { rows, t, 1 }).to(x.dtype, x.device);
            for (int start = 0; start < rows; start += batch)
            {
                int n = Math.Min(batch, rows - start);
                var perturbed = x.unsqueeze(0) * mask.narrow(0, start, n);
                var scores = input.Score(perturbed).to(ScalarType.Float64).cpu();
                var data = scores.data<double>().ToArray();
                if (data.Length != n) throw new InvalidOperationException($"Score returned {data.Length} values for {n} inputs.");
                Array.Copy(data, 0, values, start, n);
            }
        }
        return new PerturbationCurves(values.Take(t + 1).ToArray(), values.Skip(t + 1).ToArray());
    }

    /// <summary>The trapezoid area of a curve y_0..y_T over x_k = k / T (T >= 1): (1/T) sum_k (y_{k-1} + y_k) / 2.</summary>
    public static double Area(IReadOnlyList<double> curve)
    {
        if (curve is null) throw new ArgumentNullException(nameof(curve));
        if (curve.Count < 2) throw new ArgumentException("a curve needs at least two points (T >= 1).", nameof(curve));
        int t = curve.Count - 1;
        double sum = 0;
        for (int k = 1; k <= t; k++) sum += (curve[k - 1] + curve[k]) / 2;
        return sum / t;
    }

    /// <summary>ABPC = (area(LeRF) - area(MoRF)) / y_0, y_0 the unperturbed value (both curves' first point).</summary>
    public static double Abpc(IReadOnlyList<double> morf, IReadOnlyList<double> lerf)
    {
        if (morf is null) throw new ArgumentNullException(nameof(morf));
        if (lerf is null) throw new ArgumentNullException(nameof(lerf));
        if (morf.Count != lerf.Count) throw new ArgumentException($"the curves differ in length ({morf.Count} and {lerf.Count}).", nameof(lerf));
        double y0 = morf[0];
        if (y0 == 0) throw new ArgumentException("the unperturbed value is 0: ABPC is normalised by it.", nameof(morf));
        return (Area(lerf) - Area(morf)) / y0;
    }

    /// <summary>A curve normalised by its first point and resampled (linearly) at <paramref name="points"/> evenly
    /// spaced fractions 0..1 of tokens removed, for averaging inputs of different lengths.</summary>
    public static double[] Resample(IReadOnlyList<double> curve, int points = 21)
    {
        if (curve.Count < 2) throw new ArgumentException("a curve needs at least two points.", nameof(curve));
        if (points < 2) throw new ArgumentOutOfRangeException(nameof(points), points, "at least 2 points");
        int t = curve.Count - 1;
        double y0 = curve[0];
        var result = new double[points];
        for (int p = 0; p < points; p++)
        {
            double x = (double)p / (points - 1) * t;
            int lo = Math.Min((int)Math.Floor(x), t - 1);
            double f = x - lo;
            result[p] = (curve[lo] * (1 - f) + curve[lo + 1] * f) / y0;
        }
        return result;
    }
}
