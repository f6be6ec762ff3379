using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

namespace LrpGen.Evaluation;

/// <summary>One method's faithfulness over a set of inputs.</summary>
/// <param name="Method">The method.</param>
/// <param name="Examples">How many inputs were explained.</param>
/// <param name="Abpc">Mean ABPC over the inputs.</param>
/// <param name="AbpcStandardError">Standard error of that mean (sample standard deviation / sqrt(n)).</param>
/// <param name="AreaMorf">Mean normalised area under the MoRF curve (lower is better).</param>
/// <param name="AreaLerf">Mean normalised area under the LeRF curve (higher is better).</param>
/// <param name="MillisecondsPerExplanation">Mean wall time of one attribution (the curves not included).</param>
/// <param name="MorfCurve">Mean normalised MoRF curve at evenly spaced fractions 0..1 of tokens removed.</param>
/// <param name="LerfCurve">Mean normalised LeRF curve at the same fractions.</param>
public sealed record MethodFaithfulness(AttributionMethod Method, int Examples, double Abpc, double AbpcStandardError,
    double AreaMorf, double AreaLerf, double MillisecondsPerExplanation, double[] MorfCurve, double[] LerfCurve);

/// <summary>The faithfulness of several methods on the same inputs.</summary>
/// <param name="Methods">One row per method, in the order asked.</param>
/// <param name="Examples">Inputs evaluated.</param>
/// <param name="Skipped">Inputs skipped because their unperturbed value was not positive (ABPC divides by it).</param>
/// <param name="MeanTokens">Mean number of tokens per input.</param>
/// <param name="MeanUnperturbed">Mean unperturbed value of the explained quantity.</param>
public sealed record FaithfulnessResult(IReadOnlyList<MethodFaithfulness> Methods, int Examples, int Skipped, double MeanTokens, double MeanUnperturbed);

/// <summary>One method's token identification: how the token that carries the answer ranks.</summary>
/// <param name="Method">The method.</param>
/// <param name="Examples">How many inputs were explained.</param>
/// <param name="Top1">Fraction of inputs whose most relevant token is the answer token.</param>
/// <param name="MeanRank">Mean rank of the answer token (1 = most relevant).</param>
/// <param name="MillisecondsPerExplanation">Mean wall time of one attribution.</param>
/// <param name="TopK">TopK[k - 1]: fraction of inputs with the answer token among the k most relevant.</param>
/// <param name="EvidenceOnTop">Fraction of inputs whose n evidence tokens (all the tokens the answer needs) are its n
/// most relevant tokens (on key-value recall: the value and the queried key are the top two).</param>
public sealed record MethodPlausibility(AttributionMethod Method, int Examples, double Top1, double MeanRank,
    double MillisecondsPerExplanation, double[] TopK, double EvidenceOnTop);

/// <summary>The token identification of several methods on the same inputs.</summary>
public sealed record PlausibilityResult(IReadOnlyList<MethodPlausibility> Methods, int Examples, double MeanTokens);

/// <summary>Runs the evaluations over inputs made one at a time (each is disposed after use).</summary>
public static class Evaluations
{
    /// <summary>Points of the mean curves (fractions 0, 0.05, ..., 1 of tokens removed).</summary>
    public const int CurvePoints = 21;

    /// <summary>Perturbation faithfulness: for each input with a positive unperturbed value and each method, the
    /// attribution (timed) and the MoRF and LeRF curves; means per method.</summary>
    public static FaithfulnessResult Faithfulness(IEnumerable<IExplainedInput> inputs, IReadOnlyList<AttributionMethod> methods,
        AttributionSettings? settings = null, IProgress<string>? progress = null, int? total = null)
    {
        if (inputs is null) throw new ArgumentNullException(nameof(inputs));
        if (methods is null || methods.Count == 0) throw new ArgumentException("no methods to evaluate.", nameof(methods));
        settings ??= new AttributionSettings();
        var abpc = methods.Select(_ => new List<double>()).ToArray();
        var morfArea = methods.Select(_ => new List<double>()).ToArray();
        var lerfArea = methods.Select(_ => new List<double>()).ToArray();
        var time = new double[methods.Count];
        var morfCurve = methods.Select(_ => new double[CurvePoints]).ToArray();
        var lerfCurve = methods.Select(_ => new double[CurvePoints]).ToArray();
        int index = 0, used = 0, skipped = 0;
        double tokens = 0, unperturbed = 0;
        var clock = Stopwatch.StartNew();
        foreach (var input in inputs)
        {
            using (input)
            {
                double y0 = UnperturbedValue(input);
                if (!(y0 > 0))
                {
                    skipped++;
                    progress?.Report($"example {index + 1}: unperturbed value {Format(y0)} is not positive; skipped");
                    index++;
                    continue;
                }
                for (int m = 0; m < methods.Count; m++)
                {
                    var watch = Stopwatch.StartNew();
                    var relevance = Attribution.Explain(input, methods[m], settings, index);
                    time[m] += watch.Elapsed.TotalMilliseconds;
                    var curves = Perturbation.Curves(input, relevance, settings.Batch);
                    abpc[m].Add(curves.Abpc);
                    morfArea[m].Add(curves.AreaMorf);
                    lerfArea[m].Add(curves.AreaLerf);
                    Accumulate(morfCurve[m], Perturbation.Resample(curves.Morf, CurvePoints));
                    Accumulate(lerfCurve[m], Perturbation.Resample(curves.Lerf, CurvePoints));
                }
                used++;
                tokens += input.Tokens.Count;
                unperturbed += y0;
            }
            index++;
            if (progress is not null && (index % 10 == 0 || index == total))
                progress.Report(Status(index, total, clock.Elapsed.TotalSeconds,
                    string.Join(", ", methods.Select((m, i) => $"{AttributionMethods.Name(m)} {Format(abpc[i].Count > 0 ? abpc[i].Average() : double.NaN)}"))));
        }
        if (used == 0) throw new InvalidOperationException("no input with a positive unperturbed value to evaluate.");
        var rows = methods.Select((m, i) => new MethodFaithfulness(m, used, abpc[i].Average(), StandardError(abpc[i]),
            morfArea[i].Average(), lerfArea[i].Average(), time[i] / used,
            morfCurve[i].Select(v => v / used).ToArray(), lerfCurve[i].Select(v => v / used).ToArray())).ToList();
        return new FaithfulnessResult(rows, used, skipped, tokens / used, unperturbed / used);
    }

    /// <summary>Token identification: for each input and method, the rank of the answer position by relevance
    /// (ties broken by position, as in the perturbation order).</summary>
    public static PlausibilityResult Plausibility(IEnumerable<IAnsweredInput> inputs, IReadOnlyList<AttributionMethod> methods,
        AttributionSettings? settings = null, IProgress<string>? progress = null, int? total = null)
    {
        if (inputs is null) throw new ArgumentNullException(nameof(inputs));
        if (methods is null || methods.Count == 0) throw new ArgumentException("no methods to evaluate.", nameof(methods));
        settings ??= new AttributionSettings();
        var ranks = methods.Select(_ => new List<int>()).ToArray();
        var evidenceOnTop = new int[methods.Count];
        var time = new double[methods.Count];
        int index = 0, maxTokens = 0;
        double tokens = 0;
        var clock = Stopwatch.StartNew();
        foreach (var input in inputs)
        {
            using (input)
            {
                int t = input.Tokens.Count;
                if (input.AnswerPosition < 0 || input.AnswerPosition >= t)
                    throw new ArgumentException($"example {index + 1}: answer position {input.AnswerPosition} is outside its {t} tokens.", nameof(inputs));
                var evidence = input.EvidencePositions;
                if (evidence.Count == 0 || evidence.Any(p => p < 0 || p >= t) || !evidence.Contains(input.AnswerPosition))
                    throw new ArgumentException($"example {index + 1}: evidence positions [{string.Join(", ", evidence)}] must lie in its {t} tokens and include the answer position.", nameof(inputs));
                for (int m = 0; m < methods.Count; m++)
                {
                    var watch = Stopwatch.StartNew();
                    var relevance = Attribution.Explain(input, methods[m], settings, index);
                    time[m] += watch.Elapsed.TotalMilliseconds;
                    ranks[m].Add(Rank(relevance, input.AnswerPosition));
                    if (EvidenceIsOnTop(relevance, evidence)) evidenceOnTop[m]++;
                }
                tokens += t;
                maxTokens = Math.Max(maxTokens, t);
            }
            index++;
            if (progress is not null && (index % 25 == 0 || index == total))
                progress.Report(Status(index, total, clock.Elapsed.TotalSeconds,
                    string.Join(", ", methods.Select((m, i) => $"{AttributionMethods.Name(m)} {Format(ranks[i].Count(r => r == 1) / (double)ranks[i].Count)}"))));
        }
        if (index == 0) throw new InvalidOperationException("no input to evaluate.");
        var rows = methods.Select((m, i) => new MethodPlausibility(m, index, ranks[i].Count(r => r == 1) / (double)index, ranks[i].Average(),
            time[i] / index, Enumerable.Range(1, maxTokens).Select(k => ranks[i].Count(r => r <= k) / (double)index).ToArray(),
            evidenceOnTop[i] / (double)index)).ToList();
        return new PlausibilityResult(rows, index, tokens / index);
    }

    /// <summary>The 1-based rank of a position when positions are sorted most relevant first (ties: lower position first).</summary>
    public static int Rank(IReadOnlyList<float> relevance, int position) =>
        Array.IndexOf(Perturbation.MostRelevantFirst(relevance), position) + 1;

    /// <summary>Whether the n evidence positions are the n most relevant positions (ties: lower position first, as
    /// <see cref="Rank"/>).</summary>
    public static bool EvidenceIsOnTop(IReadOnlyList<float> relevance, IReadOnlyCollection<int> evidence)
    {
        if (evidence is null) throw new ArgumentNullException(nameof(evidence));
        var distinct = new HashSet<int>(evidence);
        if (distinct.Count != evidence.Count) throw new ArgumentException("an evidence position is listed twice.", nameof(evidence));
        return Perturbation.MostRelevantFirst(relevance).Take(distinct.Count).All(distinct.Contains);
    }

    private static double UnperturbedValue(IExplainedInput input)
    {
        using var noGrad = TorchSharp.torch.no_grad();
        using var batch = input.Embeddings.unsqueeze(0);
        using var score = input.Score(batch);
        using var d = score.to(TorchSharp.torch.ScalarType.Float64).cpu();
        return d.item<double>();
    }

    private static void Accumulate(double[] sum, double[] values)
    {
        for (int i = 0; i < sum.Length; i++) sum[i] += values[i];
    }

    private static double StandardError(List<double> values)
    {
        if (values.Count < 2) return double.NaN;
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return Math.Sqrt(variance / values.Count);
    }

    private static string Status(int index, int? total, double seconds, string running)
    {
        string of = total is { } n ? $"{index}/{n}" : index.ToString(CultureInfo.InvariantCulture);
        string eta = total is { } m && index > 0 && index < m ? $", about {Format(seconds / index * (m - index), "0")} s left" : "";
        return $"{of} examples{eta}; running means: {running}";
    }

    private static string Format(double value, string format = "0.000") => value.ToString(format, CultureInfo.InvariantCulture);
}
