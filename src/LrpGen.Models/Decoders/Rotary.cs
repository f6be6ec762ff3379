using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>Rotary position tables as Hugging Face computes them (in float32), shaped [B, 1, T, D] for broadcasting
/// over heads. Constants for the relevance pass.</summary>
public static class Rotary
{
    public static Tensor InverseFrequencies(DecoderConfig config)
    {
        int dim = config.HeadDim;
        var inv = new float[dim / 2];
        for (int i = 0; i < inv.Length; i++)
            inv[i] = (float)(1.0 / Math.Pow(config.RopeTheta, (double)(2 * i) / dim));
        if (config.RopeScaling is { } s)
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
        }
        return torch.tensor(inv);
    }

    /// <summary>cos and sin for position ids [B, T].</summary>
    public static (Tensor Cos, Tensor Sin) Tables(DecoderConfig config, Tensor positionIds, ScalarType dtype, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var inv = InverseFrequencies(config).to(device);
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv;   // [B, T, D/2]
        var emb = torch.cat(new[] { freqs, freqs }, -1).unsqueeze(1);        // [B, 1, T, D]
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }
}
