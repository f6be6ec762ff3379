using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen;
using LrpGen.Models.Vit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VitShapes;

/// <summary>The pointing game on shape images: for each explanation, is the most relevant pixel inside the object's
/// box (a hit), and what share of the positive relevance lies inside it. Each image explains the logit of its
/// true class; the map is the pixel relevance summed over the colour channels.</summary>
public static class PointingGame
{
    /// <summary>A named way to get the relevance map [B, H, W] of a batch for given target classes; null: random.</summary>
    public sealed record Method(string Name, Func<Explainers, Tensor, long[], Tensor>? Map);

    /// <summary>The model that explains: the loaded classifier (LXT's ViT recipe: CP-LRP inside attention), also run
    /// with AttnLRP's rules inside attention through a rule override.</summary>
    public sealed class Explainers
    {
        /// <summary>Every attention module's products under AttnLRP's uniform rule instead of its compiled [CpLrp].</summary>
        private static readonly IReadOnlyDictionary<string, LrpRule> RulesInAttention =
            new Dictionary<string, LrpRule> { ["layers.*.self_attention"] = LrpRule.AttnLrp };

        public Explainers(VitClassifier vit) => Vit = vit;

        public VitClassifier Vit { get; }

        public Tensor Recipe(Tensor input, long[] targets, LrpMethod method) => Vit.Explain(input, method, targets).PixelRelevance.sum(1);

        public Tensor ThroughAttention(Tensor input, long[] targets)
        {
            var overrides = new Dictionary<Type, double> { [typeof(Conv2d)] = Vit.Config.GammaConv, [typeof(Linear)] = Vit.Config.GammaLinear };
            using var pass = Vit.Model.LrpForward(input, new LrpOptions { Method = LrpMethod.AttnLrp, GammaOverrides = overrides, RuleOverrides = RulesInAttention });
            using var seed = nn.functional.one_hot(torch.tensor(targets), Vit.Config.Classes).to(pass.Output.dtype);
            return pass.Backward(seed)[0].sum(1);
        }
    }

    /// <summary>The maps compared: LrpMethod.AttnLrp and CpLrp on the ViT as LrpGen.Models defines it (LXT's recipe,
    /// CP-LRP inside attention, so the two coincide), AttnLRP with its rules inside attention too, input x gradient,
    /// and Gaussian noise (the chance level).</summary>
    public static IReadOnlyList<Method> Methods { get; } = new[]
    {
        new Method("AttnLRP (LXT ViT recipe)", (e, x, t) => e.Recipe(x, t, LrpMethod.AttnLrp)),
        new Method("CP-LRP", (e, x, t) => e.Recipe(x, t, LrpMethod.CpLrp)),
        new Method("AttnLRP, rules in attention", (e, x, t) => e.ThroughAttention(x, t)),
        new Method("input x gradient", (e, x, t) => e.Recipe(x, t, LrpMethod.Gradient)),
        new Method("random", null),
    };

    /// <summary>One method's results, in image order: the strict hit (maximum in the box), the hit with a tolerance of
    /// <see cref="Tolerance"/> pixels around the box, and the share of positive relevance in the box.</summary>
    public sealed record Score(string Method, bool[] HitPerImage, bool[] NearHitPerImage, double[] SharePerImage)
    {
        public int Images => HitPerImage.Length;
        public int Hits => HitPerImage.Count(h => h);
        public int NearHits => NearHitPerImage.Count(h => h);
        public double HitRate => (double)Hits / Images;
        public double MeanPositiveShareInBox => SharePerImage.Average();

        /// <summary>Half-width of the normal-approximation 95 % interval of the hit rate.</summary>
        public double HitRateHalfWidth => 1.96 * Math.Sqrt(HitRate * (1 - HitRate) / Images);

        /// <summary>Half-width of the 95 % interval of the mean share (1.96 standard errors).</summary>
        public double ShareHalfWidth
        {
            get
            {
                if (Images < 2) return double.NaN;
                double mean = MeanPositiveShareInBox;
                double variance = SharePerImage.Sum(v => (v - mean) * (v - mean)) / (Images - 1);
                return 1.96 * Math.Sqrt(variance / Images);
            }
        }
    }

    /// <summary>One image's maps (one per method, [H * W] row-major), kept for figures: the first test images of each
    /// class, in class order.</summary>
    public sealed record Example(ShapeSample Sample, long Predicted, float[][] Maps);

    public sealed record Report(int Images, double Accuracy, double MeanBoxShare, IReadOnlyList<Score> Scores, IReadOnlyList<Example> Examples);

    public static Report Evaluate(VitClassifier vit, IReadOnlyList<ShapeSample> samples, int examplesPerClass = 0, int batch = 50, int randomSeed = 7)
    {
        if (samples.Count == 0) throw new ArgumentException("no images to evaluate.", nameof(samples));
        int size = ShapesData.Size, pixels = size * size;
        var hits = Methods.Select(_ => new bool[samples.Count]).ToArray();
        var nearHits = Methods.Select(_ => new bool[samples.Count]).ToArray();
        var shares = Methods.Select(_ => new double[samples.Count]).ToArray();
        var examples = new List<Example>();
        var random = new Random(randomSeed);
        var explainers = new Explainers(vit);
        int correct = 0;
        double boxShare = 0;

        for (int start = 0; start < samples.Count; start += batch)
        {
            var part = samples.Skip(start).Take(batch).ToList();
            var labels = part.Select(s => (long)s.Label).ToArray();
            var maps = new float[Methods.Count][][];
            long[] predicted;
            using (var scope = torch.NewDisposeScope())
            {
                var input = ShapesData.ToInput(part);
                using (torch.no_grad())
                    predicted = vit.Model.call(input).argmax(1).data<long>().ToArray();
                for (int m = 0; m < Methods.Count; m++)
                {
                    if (Methods[m].Map is { } explain)
                    {
                        var flat = explain(explainers, input, labels).contiguous().data<float>().ToArray();    // [B, H, W]
                        maps[m] = Enumerable.Range(0, part.Count).Select(b => flat.AsSpan(b * pixels, pixels).ToArray()).ToArray();
                    }
                    else
                    {
                        maps[m] = part.Select(_ => Enumerable.Range(0, pixels).Select(_ => Gaussian(random)).ToArray()).ToArray();
                    }
                }
            }
            for (int b = 0; b < part.Count; b++)
            {
                var box = part[b].Box;
                if (predicted[b] == part[b].Label) correct++;
                boxShare += (double)box.Area / pixels;
                for (int m = 0; m < Methods.Count; m++)
                {
                    var (hit, nearHit, share) = Measure(maps[m][b], size, box);
                    hits[m][start + b] = hit;
                    nearHits[m][start + b] = nearHit;
                    shares[m][start + b] = share;
                }
                if (examples.Count(e => e.Sample.Label == part[b].Label) < examplesPerClass)
                    examples.Add(new Example(part[b], predicted[b], Methods.Select((_, m) => maps[m][b]).ToArray()));
            }
        }

        int n = samples.Count;
        var scores = Methods.Select((method, m) => new Score(method.Name, hits[m], nearHits[m], shares[m])).ToList();
        return new Report(n, (double)correct / n, boxShare / n, scores, examples.OrderBy(e => e.Sample.Label).ToList());
    }

    /// <summary>The pointing game's tolerance: Zhang et al. (2016) count a maximum within 15 pixels of the object on
    /// ImageNet images; here, on 32 x 32 images, 1 pixel (the maximum lies in the box grown by one pixel on each side).</summary>
    public const int Tolerance = 1;

    /// <summary>Whether the most relevant pixel (the first maximum in row-major order) lies in the box, whether it lies
    /// within <see cref="Tolerance"/> pixels of it, and the share of positive relevance inside the box (0 when the map has
    /// no positive value).</summary>
    public static (bool Hit, bool NearHit, double PositiveShare) Measure(float[] map, int size, Box box)
    {
        int best = 0;
        double inside = 0, total = 0;
        for (int i = 0; i < map.Length; i++)
        {
            if (map[i] > map[best]) best = i;
            if (map[i] > 0)
            {
                total += map[i];
                if (box.Contains(i % size, i / size)) inside += map[i];
            }
        }
        var grown = new Box(box.X0 - Tolerance, box.Y0 - Tolerance, box.X1 + Tolerance, box.Y1 + Tolerance);
        return (box.Contains(best % size, best / size), grown.Contains(best % size, best / size), total > 0 ? inside / total : 0);
    }

    /// <summary>The table in Markdown.</summary>
    public static string Table(Report report)
    {
        var lines = new List<string>
        {
            $"| map | pointing game: max in box (95 % interval) | max within {Tolerance} px of box | share of positive relevance in box (95 % interval) |",
            "| --- | ---: | ---: | ---: |",
        };
        foreach (var s in report.Scores)
            lines.Add($"| {s.Method} | {100 * s.HitRate:F1} ± {100 * s.HitRateHalfWidth:F1} % ({s.Hits}/{s.Images}) | " +
                      $"{100.0 * s.NearHits / s.Images:F1} % ({s.NearHits}/{s.Images}) | " +
                      $"{100 * s.MeanPositiveShareInBox:F1} ± {100 * s.ShareHalfWidth:F1} % |");
        return string.Join("\n", lines);
    }

    /// <summary>Paired comparison of two methods on the same images: where one hits and the other misses, and on how
    /// many images the first puts the larger share of positive relevance into the box.</summary>
    public static string Compare(Score a, Score b)
    {
        int onlyA = 0, onlyB = 0, shareA = 0, shareB = 0;
        for (int i = 0; i < a.Images; i++)
        {
            if (a.HitPerImage[i] && !b.HitPerImage[i]) onlyA++;
            if (b.HitPerImage[i] && !a.HitPerImage[i]) onlyB++;
            if (a.SharePerImage[i] > b.SharePerImage[i]) shareA++;
            if (b.SharePerImage[i] > a.SharePerImage[i]) shareB++;
        }
        return $"{a.Method} vs {b.Method}: only the first hits on {onlyA} images, only the second on {onlyB} " +
               $"(exact McNemar test: {FormatP(SignTestP(onlyA, onlyB))}); the first has the larger share in the box on {shareA} images, " +
               $"the second on {shareB} (sign test: {FormatP(SignTestP(shareA, shareB))}).";
    }

    /// <summary>Two-sided exact sign test: the probability under Binomial(a + b, 1/2) of a split at least as uneven.</summary>
    public static double SignTestP(int a, int b)
    {
        int n = a + b, k = Math.Min(a, b);
        if (n == 0) return 1.0;
        // log C(n, i) - n log 2, summed over i <= k in log space.
        double logTerm = -n * Math.Log(2), logSum = double.NegativeInfinity;
        for (int i = 0; i <= k; i++)
        {
            if (i > 0) logTerm += Math.Log(n - i + 1) - Math.Log(i);
            double hi = Math.Max(logSum, logTerm);
            logSum = hi + Math.Log(Math.Exp(logSum - hi) + Math.Exp(logTerm - hi));
        }
        return Math.Min(1.0, 2 * Math.Exp(logSum));
    }

    private static string FormatP(double p) => p < 1e-6 ? "p < 1e-6" : $"p = {p:G2}";

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
