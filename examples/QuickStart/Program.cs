// QuickStart: explain a next-token logit of a small decoder with the generated AttnLRP pass, next to the
// CP-LRP and plain input x gradient baselines. The weights are random (seeded): this shows the API and the
// cost, not a trained model's behaviour. The first method's time includes JIT warm-up.
using System;
using System.Diagnostics;
using System.Linq;
using LrpGen;
using QuickStart;
using TorchSharp;
using static TorchSharp.torch;

torch.manual_seed(42);
var model = new TinyDecoder(vocab: 64, dim: 64, heads: 4, layers: 2);
model.eval();
var ids = torch.tensor(new long[,] { { 5, 17, 3, 42, 8, 23, 11, 60 } });

foreach (var method in new[] { LrpMethod.AttnLrp, LrpMethod.CpLrp, LrpMethod.Gradient })
{
    var clock = Stopwatch.StartNew();
    using var pass = model.LrpForward(ids, new LrpOptions { Method = method });
    long target = pass.Output[0].argmax().item<long>();
    using var seed = torch.zeros_like(pass.Output);
    seed[0, target] = torch.tensor(1f);
    var relevance = pass.Backward(seed)[0][0];
    clock.Stop();

    float logit = pass.Output[0, target].item<float>();
    var values = relevance.data<float>().ToArray();
    Console.WriteLine($"{method,-8} target token {target}, logit {logit:F4}, sum of relevance {values.Sum():F4}, {clock.Elapsed.TotalMilliseconds:F1} ms");
    Console.WriteLine("         " + Heatmap(ids[0].data<long>().ToArray(), values));
}

// Red for positive relevance, blue for negative, brighter for larger |R|.
static string Heatmap(long[] tokens, float[] relevance)
{
    float max = relevance.Select(Math.Abs).DefaultIfEmpty(0).Max();
    var parts = tokens.Select((t, i) =>
    {
        double a = max > 0 ? relevance[i] / max : 0;
        int level = (int)Math.Round(Math.Abs(a) * 4);
        int color = a >= 0 ? new[] { 255, 224, 217, 203, 196 }[level] : new[] { 255, 153, 111, 69, 21 }[level];
        string value = (relevance[i] >= 0 ? "+" : "") + relevance[i].ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        return $"\u001b[48;5;{color}m\u001b[30m {t} ({value}) \u001b[0m";
    });
    return string.Join(" ", parts);
}
