using System;

namespace LrpGen.Evaluation;

/// <summary>The settings of the baselines that have any. The defaults are the ones documented in
/// docs/evaluation.md and used for its tables.</summary>
public sealed record AttributionSettings
{
    private readonly int _igSteps = 32;
    private readonly int _smoothGradSamples = 32;
    private readonly double _smoothGradNoise = 0.1;
    private readonly int _batch = 32;

    /// <summary>Integrated Gradients: the number of points on the straight path from the zero embeddings to the
    /// input (midpoint rule: alpha = (k + 1/2) / steps, k = 0..steps-1). Default 32.</summary>
    public int IgSteps
    {
        get => _igSteps;
        init => _igSteps = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(IgSteps), value, "Integrated Gradients needs at least 1 step.");
    }

    /// <summary>SmoothGrad: the number of noisy samples averaged. Default 32.</summary>
    public int SmoothGradSamples
    {
        get => _smoothGradSamples;
        init => _smoothGradSamples = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(SmoothGradSamples), value, "SmoothGrad needs at least 1 sample.");
    }

    /// <summary>SmoothGrad: the noise standard deviation as a fraction of the range (max - min) of the input's
    /// embedding values, as Smilkov et al. (2017) define the noise level. Default 0.1 (10%).</summary>
    public double SmoothGradNoise
    {
        get => _smoothGradNoise;
        init => _smoothGradNoise = value >= 0 && !double.IsNaN(value) && !double.IsInfinity(value)
            ? value : throw new ArgumentOutOfRangeException(nameof(SmoothGradNoise), value, "the SmoothGrad noise level must be a finite number >= 0.");
    }

    /// <summary>How many inputs the autograd baselines and the perturbation curves push through the model at once.</summary>
    public int Batch
    {
        get => _batch;
        init => _batch = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Batch), value, "the batch must be at least 1.");
    }

    /// <summary>Seed of the random baseline and of SmoothGrad's noise (each example mixes in its index).</summary>
    public int Seed { get; init; } = 1;
}
