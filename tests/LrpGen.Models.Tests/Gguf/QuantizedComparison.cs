using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LLama.Native;
using LrpGen.Models.Gguf;
using Xunit;
using Xunit.Abstractions;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>The quantized check every family shares: llama.cpp quantizes an f32 GGUF (its own quantizer), then runs
/// the quantized file; ours reads and dequantizes the same file. The issue's criteria: Pearson correlation of all
/// logits >= 0.999 and the same argmax at >= 98% of positions.</summary>
internal static class QuantizedComparison
{
    public const double MinPearson = 0.999, MinArgmaxAgreement = 0.98;

    /// <summary>The figures of one comparison, printed by the tests (docs/models.md quotes them).</summary>
    public sealed record Figures(string Model, LLamaFtype Type, IReadOnlyList<GgmlType> TensorTypes, double Pearson, int SameArgmax, int Positions)
    {
        public double Agreement => (double)SameArgmax / Positions;

        public override string ToString() =>
            $"{Model} {Type} (tensor types {string.Join(", ", TensorTypes)}): Pearson {Pearson:F6}, same argmax at {SameArgmax}/{Positions} positions ({Agreement:P1})";
    }

    /// <summary>Quantizes <paramref name="f32Gguf"/> to <paramref name="type"/> next to it and compares llama.cpp's
    /// logits with ours at every position of <paramref name="ids"/>; prints the figures.</summary>
    public static Figures Run(string model, string f32Gguf, LLamaFtype type, IReadOnlyList<long> ids, ITestOutputHelper output)
    {
        string quantized = Path.Combine(Path.GetDirectoryName(f32Gguf)!, $"{Path.GetFileNameWithoutExtension(f32Gguf)}-{type}.gguf");
        LlamaCpp.Quantize(f32Gguf, quantized, type);
        var types = GgufFile.Open(quantized).Tensors.Select(t => t.Type).Distinct().OrderBy(t => t).ToList();
        var reference = LlamaCpp.Logits(quantized, ids);
        var ours = LlamaCppReferenceTests.OurLogits(quantized, ids);
        double pearson = Pearson(reference.SelectMany(r => r).ToArray(), ours.SelectMany(r => r).ToArray());
        int same = Enumerable.Range(0, ids.Count).Count(p => ArgMax(reference[p]) == ArgMax(ours[p]));
        var figures = new Figures(model, type, types, pearson, same, ids.Count);
        output.WriteLine(figures.ToString());
        return figures;
    }

    /// <summary>Both of the issue's criteria.</summary>
    public static void AssertAcceptable(Figures f)
    {
        AssertCorrelated(f);
        Assert.True(f.Agreement >= MinArgmaxAgreement, $"{f.Model} {f.Type}: same argmax at {f.SameArgmax}/{f.Positions} positions (< {MinArgmaxAgreement:P0})");
    }

    public static void AssertCorrelated(Figures f) =>
        Assert.True(f.Pearson >= MinPearson, $"{f.Model} {f.Type}: Pearson {f.Pearson:F6} < {MinPearson}");

    public static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    public static double Pearson(float[] a, float[] b)
    {
        double ma = a.Average(x => (double)x), mb = b.Average(x => (double)x);
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return sab / Math.Sqrt(saa * sbb);
    }
}
