using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>The weights of one <see cref="LrpPass.Explain"/> call as a batch of seeds: weights shaped like the output
/// (or broadcasting to it) are one seed; weights with one more, leading, dimension S are S seeds. Every backward
/// runs on the [S, ...output shape] layout (<see cref="Rules.Seeds"/>); a single seed is S = 1, removed again from
/// the results. Holds broadcast views, never copies per seed.</summary>
internal sealed class SeedBatch : IDisposable
{
    private readonly Tensor _weights;
    private readonly Dictionary<string, Tensor> _latentSeeds = new(StringComparer.Ordinal);

    private SeedBatch(Tensor weights, bool batched)
    {
        _weights = weights;
        Batched = batched;
    }

    /// <summary>Whether the caller passed a seed dimension (the results keep it).</summary>
    public bool Batched { get; }

    /// <summary>The number of seeds S.</summary>
    public long Count => _weights.shape[0];

    public static SeedBatch Of(Tensor weights, Tensor output, IReadOnlyDictionary<string, Tensor>? latentSeeds)
    {
        long[] ws = weights.shape, os = output.shape;
        bool single = Broadcasts(ws, os, 0);
        bool batched = !single && ws.Length == os.Length + 1 && Broadcasts(ws, os, 1);
        if (!single && !batched)
            throw new ArgumentException(
                $"Backward: weights of shape {Text(ws)} fit neither the output shape {Text(os)} nor [S, {string.Join(", ", os)}] (S explained quantities in one backward).",
                nameof(weights));
        if (batched && ws[0] < 1)
            throw new ArgumentException($"Backward: weights of shape {Text(ws)} hold no seed (S = 0); pass at least one.", nameof(weights));

        using var converted = weights.to(output.dtype, output.device);
        Tensor seeds;
        if (batched)
        {
            var shape = new long[os.Length + 1];
            shape[0] = ws[0];
            os.CopyTo(shape, 1);
            seeds = converted.expand(shape);
        }
        else
        {
            using var full = converted.expand(os);
            seeds = full.unsqueeze(0);
        }
        var batch = new SeedBatch(seeds, batched);
        if (latentSeeds is null) return batch;
        try
        {
            foreach (var (path, seed) in latentSeeds)
            {
                if (seed is null) throw new ArgumentException($"The latent seed at '{path}' is null.", nameof(latentSeeds));
                if (batched && (seed.dim() == 0 || seed.shape[0] != ws[0]))
                    throw new ArgumentException(
                        $"The latent seed at '{path}' has shape {Text(seed.shape)}: with weights for {ws[0]} seeds it needs the leading dimension {ws[0]} ([S, ...value shape]).",
                        nameof(latentSeeds));
                batch._latentSeeds[path] = batched ? seed.alias() : seed.unsqueeze(0);
            }
        }
        catch
        {
            batch.Dispose();
            throw;
        }
        return batch;
    }

    /// <summary>The weights and latent seeds of seeds [start, start + length), as views the caller disposes.</summary>
    public (Tensor Weights, Dictionary<string, Tensor>? LatentSeeds) Chunk(long start, long length)
    {
        var weights = _weights.narrow(0, start, length);
        if (_latentSeeds.Count == 0) return (weights, null);
        var latents = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, seed) in _latentSeeds) latents[path] = seed.narrow(0, start, length);
        return (weights, latents);
    }

    /// <summary>Whether <paramref name="from"/> without its first <paramref name="skip"/> dims broadcasts to <paramref name="to"/>.</summary>
    private static bool Broadcasts(long[] from, long[] to, int skip)
    {
        int rank = from.Length - skip;
        if (rank > to.Length) return false;
        for (int i = 1; i <= rank; i++)
        {
            long f = from[from.Length - i], t = to[to.Length - i];
            if (f != t && f != 1) return false;
        }
        return true;
    }

    private static string Text(long[] shape) => "[" + string.Join(", ", shape) + "]";

    public void Dispose()
    {
        _weights.Dispose();
        foreach (var seed in _latentSeeds.Values) seed.Dispose();
        _latentSeeds.Clear();
    }
}
