using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace VitShapes;

/// <summary>The object's bounding box in pixels: columns [X0, X1), rows [Y0, Y1).</summary>
public readonly record struct Box(int X0, int Y0, int X1, int Y1)
{
    public int Area => (X1 - X0) * (Y1 - Y0);
    public bool Contains(int x, int y) => x >= X0 && x < X1 && y >= Y0 && y < Y1;
}

/// <summary>One image: RGB in [0, 1], channel-major [3, Size, Size]; its class and the object's box.</summary>
public sealed record ShapeSample(float[] Pixels, int Label, Box Box);

/// <summary>Synthetic images with one object (square, disc, triangle, cross or ring) of random size, position and
/// colour on a noisy background of another random colour. Every image is a pure function of its seed.</summary>
public static class ShapesData
{
    public const int Size = 32;
    public static readonly string[] ClassNames = { "square", "disc", "triangle", "cross", "ring" };

    /// <summary>The model's input is the image scaled from [0, 1] to [-1, 1] (mean 0.5, std 0.5 per channel).</summary>
    public const float Mean = 0.5f, Std = 0.5f;

    /// <summary>Images number <paramref name="first"/> .. first + count - 1 of the stream that <paramref name="seed"/> names.</summary>
    public static List<ShapeSample> Generate(int seed, int first, int count)
    {
        var samples = new List<ShapeSample>(count);
        for (int i = 0; i < count; i++) samples.Add(Make(unchecked(seed * 1_000_003 + first + i)));
        return samples;
    }

    public static ShapeSample Make(int seed)
    {
        var rng = new Random(seed);
        int label = rng.Next(ClassNames.Length);
        int side = rng.Next(10, 19);                       // box side of the shape, 10..18 px
        int x0 = rng.Next(0, Size - side + 1), y0 = rng.Next(0, Size - side + 1);

        var background = RandomColour(rng);
        float[] colour;
        do colour = RandomColour(rng); while (Distance(colour, background) < 0.45f);
        float noise = 0.05f + 0.10f * (float)rng.NextDouble();

        var mask = new bool[Size, Size];
        double cx = x0 + side / 2.0, cy = y0 + side / 2.0, r = side / 2.0;
        for (int y = y0; y < y0 + side; y++)
            for (int x = x0; x < x0 + side; x++)
            {
                double px = x + 0.5, py = y + 0.5;              // pixel centre
                double dx = px - cx, dy = py - cy;
                mask[y, x] = label switch
                {
                    0 => true,
                    1 => dx * dx + dy * dy <= r * r,
                    2 => py >= y0 && Math.Abs(dx) <= (py - y0) / 2.0,      // apex at the top, base = side
                    3 => Math.Abs(dx) <= side / 6.0 || Math.Abs(dy) <= side / 6.0,
                    _ => dx * dx + dy * dy <= r * r && dx * dx + dy * dy >= 0.3 * r * r,
                };
            }

        var pixels = new float[3 * Size * Size];
        int bx0 = Size, by0 = Size, bx1 = 0, by1 = 0;
        for (int y = 0; y < Size; y++)
            for (int x = 0; x < Size; x++)
            {
                bool inside = mask[y, x];
                if (inside)
                {
                    bx0 = Math.Min(bx0, x); by0 = Math.Min(by0, y);
                    bx1 = Math.Max(bx1, x + 1); by1 = Math.Max(by1, y + 1);
                }
                var c = inside ? colour : background;
                for (int ch = 0; ch < 3; ch++)
                    pixels[(ch * Size + y) * Size + x] = Math.Clamp(c[ch] + noise * Gaussian(rng), 0f, 1f);
            }
        return new ShapeSample(pixels, label, new Box(bx0, by0, bx1, by1));
    }

    /// <summary>The model's input [B, 3, Size, Size], normalised.</summary>
    public static Tensor ToInput(IReadOnlyList<ShapeSample> samples)
    {
        var data = new float[samples.Count * 3 * Size * Size];
        for (int b = 0; b < samples.Count; b++)
        {
            var p = samples[b].Pixels;
            int offset = b * p.Length;
            for (int i = 0; i < p.Length; i++) data[offset + i] = (p[i] - Mean) / Std;
        }
        return torch.tensor(data, new long[] { samples.Count, 3, Size, Size });
    }

    public static Tensor ToLabels(IReadOnlyList<ShapeSample> samples)
    {
        var labels = new long[samples.Count];
        for (int b = 0; b < samples.Count; b++) labels[b] = samples[b].Label;
        return torch.tensor(labels);
    }

    private static float[] RandomColour(Random rng) =>
        new[] { (float)rng.NextDouble(), (float)rng.NextDouble(), (float)rng.NextDouble() };

    private static float Distance(float[] a, float[] b) =>
        MathF.Sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
