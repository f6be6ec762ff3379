using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>Rotary position tables as Hugging Face computes them (in float32). Constants for the relevance pass.</summary>
public static class Rotary
{
    /// <summary>The global layers' inverse frequencies (with the config's scaling; longrope: the short factors).</summary>
    public static Tensor InverseFrequencies(DecoderConfig config) => InverseFrequencies(config, config.RopeTheta, config.RopeScaling, beyondOriginal: false);

    /// <summary>Inverse frequencies for base <paramref name="theta"/> under <paramref name="scaling"/>;
    /// <paramref name="beyondOriginal"/> picks longrope's long factors (a position at or past the original context).</summary>
    public static Tensor InverseFrequencies(DecoderConfig config, double theta, RopeScaling? scaling, bool beyondOriginal)
    {
        int dim = config.HeadDim;
        var inv = new float[dim / 2];
        for (int i = 0; i < inv.Length; i++)
            inv[i] = (float)(1.0 / Math.Pow(theta, (double)(2 * i) / dim));
        switch (scaling)
        {
            case Llama3RopeScaling s:
            {
                // llama3: long wavelengths are slowed by the factor, short ones kept, the band between interpolated.
                double lowWavelen = s.OriginalMaxPositions / s.LowFreqFactor;
                double highWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
                for (int i = 0; i < inv.Length; i++)
                {
                    double freq = inv[i];
                    double wavelen = 2 * Math.PI / freq;
                    double scaled = wavelen > lowWavelen ? freq / s.Factor : freq;
                    double smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
                    if (medium) scaled = (1 - smooth) * scaled / s.Factor + smooth * scaled;
                    inv[i] = (float)scaled;
                }
                break;
            }
            case LinearRopeScaling s:
                for (int i = 0; i < inv.Length; i++) inv[i] = (float)(inv[i] / s.Factor);
                break;
            case LongRopeScaling s:
            {
                // Hugging Face: 1 / (factor_i * theta^(2i/d)), the exponent in float32.
                var factors = beyondOriginal ? s.LongFactor : s.ShortFactor;
                for (int i = 0; i < inv.Length; i++)
                    inv[i] = (float)(1.0 / (factors[i] * Math.Pow(theta, (float)(2 * i) / dim)));
                break;
            }
        }
        return torch.tensor(inv);
    }

    /// <summary>cos and sin for position ids [B, T], stacked per RoPE kind: [R, B, 1, T, D] with index 0 the global
    /// layers' tables and, where the config has a local base (<see cref="DecoderConfig.LocalRopeTheta"/>), index 1
    /// the sliding-window layers'.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(DecoderConfig config, Tensor positionIds, ScalarType dtype, Device device)
    {
        using var scope = torch.NewDisposeScope();
        // longrope switches to its long factors when the longest sequence reaches past the original context.
        long longest = positionIds.numel() == 0 ? 0 : positionIds.max().item<long>() + 1;
        bool beyond = config.RopeScaling is LongRopeScaling l && longest > l.OriginalMaxPositions;
        double attentionFactor = config.RopeScaling is LongRopeScaling f ? f.AttentionFactor : 1.0;
        var (cos, sin) = Table(InverseFrequencies(config, config.RopeTheta, config.RopeScaling, beyond), positionIds, attentionFactor, dtype, device);
        if (config.LocalRopeTheta > 0)
        {
            var (localCos, localSin) = Table(InverseFrequencies(config, config.LocalRopeTheta, null, false), positionIds, 1.0, dtype, device);
            cos = torch.stack(new[] { cos, localCos }, 0);
            sin = torch.stack(new[] { sin, localSin }, 0);
        }
        else
        {
            cos = cos.unsqueeze(0);
            sin = sin.unsqueeze(0);
        }
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    private static (Tensor Cos, Tensor Sin) Table(Tensor inverseFrequencies, Tensor positionIds, double attentionFactor, ScalarType dtype, Device device)
    {
        var inv = inverseFrequencies.to(device);
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv;   // [B, T, D/2]
        var emb = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);        // [B, 1, T, D]
        var cos = emb.cos();
        var sin = emb.sin();
        if (attentionFactor != 1.0)
        {
            cos = cos * attentionFactor;
            sin = sin * attentionFactor;
        }
        return (cos.to(dtype), sin.to(dtype));
    }
}
