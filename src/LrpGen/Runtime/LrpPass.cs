using System;
using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>One forward pass of an <see cref="LrpModuleAttribute"/> module, holding exactly what its relevance
/// backward needs. Dispose it to release those tensors and <see cref="Output"/>.</summary>
/// <remarks>A pass may be used from several threads: <see cref="Backward"/> and <see cref="Explain"/> run one at a
/// time (a lock; one backward is not parallel anyway), so concurrent calls give the single-thread results.
/// The pass keeps aliases of its inputs, not copies: an input changed in place after the forward makes
/// <see cref="Explain"/> throw instead of mixing new inputs with the activations of the old ones.</remarks>
public sealed class LrpPass : IDisposable
{
    private readonly LrpContext _context;
    private readonly IDisposable _tape;
    private readonly Func<Tensor, Tensor?[]> _backward;
    private readonly RelevanceInput[] _inputs;
    private readonly InputSnapshot[] _snapshots;
    private readonly object _lock = new();
    private Tensor? _output;

    /// <summary>Used by generated code; the pass owns <paramref name="output"/>, <paramref name="tape"/> and the
    /// input handles. The inputs are snapshotted here, right after the forward.</summary>
    public LrpPass(Tensor output, LrpContext context, IDisposable tape, Func<Tensor, Tensor?[]> backward, RelevanceInput[] inputs)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _context = context;
        _tape = tape;
        _backward = backward;
        _inputs = inputs;
        _snapshots = Array.ConvertAll(inputs, i => new InputSnapshot(i.Value));
    }

    /// <summary>The forward output. Owned by this pass: clone it to keep it past <see cref="Dispose"/>.</summary>
    public Tensor Output => _output ?? throw new ObjectDisposedException(nameof(LrpPass));

    /// <summary>Names of the inputs <see cref="Backward"/> returns relevance for, in order.</summary>
    public IReadOnlyList<string> InputNames => Array.ConvertAll(_inputs, i => i.Name);

    /// <summary>Explains <c>sum(weights * Output)</c>. Returns the relevance (input x modified gradient)
    /// of each relevance input of <c>forward</c> in parameter order, each shaped like its parameter; token-id
    /// inputs get the relevance of their embeddings summed over the embedding dimension. May be called
    /// more than once, also from several threads at once. The caller owns the returned tensors, which are float32 (float64 for float64 models).</summary>
    public IReadOnlyList<Tensor> Backward(Tensor weights)
    {
        var explanation = Explain(weights);
        foreach (var latent in explanation.Latents.Values) latent.Dispose();
        return explanation.Inputs;
    }

    /// <summary>Like <see cref="Backward"/>, and also returns the relevance (value x modified gradient, full shape)
    /// at every point named in <see cref="LrpOptions.Latents"/>. <paramref name="latentSeeds"/> adds weights at
    /// points (conditional attribution: explain a latent neuron; pass zero <paramref name="weights"/> to
    /// explain it alone). Thread-safe: concurrent calls on one pass run one after the other.</summary>
    /// <exception cref="InvalidOperationException">An input was changed in place after the forward.</exception>
    public LrpExplanation Explain(Tensor weights, IReadOnlyDictionary<string, Tensor>? latentSeeds = null)
    {
        // The context holds the per-backward state (seeds, latents): one backward at a time.
        lock (_lock) return ExplainLocked(weights, latentSeeds);
    }

    private LrpExplanation ExplainLocked(Tensor weights, IReadOnlyDictionary<string, Tensor>? latentSeeds)
    {
        var output = Output;
        CheckInputsUnchanged();
        if (weights is null) throw new ArgumentNullException(nameof(weights));
        if (!weights.is_floating_point())
            throw new ArgumentException($"Backward: weights must be a floating-point tensor, got {weights.dtype}.", nameof(weights));
        if (!Broadcasts(weights.shape, output.shape))
            throw new ArgumentException(
                $"Backward: weights of shape [{string.Join(", ", weights.shape)}] do not broadcast to the output shape [{string.Join(", ", output.shape)}].",
                nameof(weights));

        using var noGrad = torch.no_grad();
        Tensor?[] grads;
        Dictionary<string, Tensor> latents;
        _context.BeginBackward(latentSeeds);
        try
        {
            using (var converted = weights.to(output.dtype, output.device))
            using (var seed = converted.expand(output.shape))
                grads = _backward(seed);
        }
        finally
        {
            latents = _context.EndBackward();
        }

        var result = new Tensor[_inputs.Length];
        for (int i = 0; i < _inputs.Length; i++)
        {
            var input = _inputs[i];
            var g = i < grads.Length ? grads[i] : null;
            if (g is null)
            {
                var zerosType = input.IsTokenIds ? RelevanceType(output.dtype) : RelevanceType(input.Value.dtype);
                result[i] = torch.zeros(input.Value.shape, zerosType, device: input.Value.device);
                continue;
            }
            var dtype = RelevanceType(g.dtype);
            if (input.IsTokenIds)
            {
                result[i] = g.to(dtype);
            }
            else
            {
                using var xr = input.Value.to(dtype);
                using var gr = g.to(dtype);
                result[i] = xr.mul(gr);
            }
            g.Dispose();
        }
        return new LrpExplanation(result, latents);
    }

    private void CheckInputsUnchanged()
    {
        for (int i = 0; i < _inputs.Length; i++)
            if (!_snapshots[i].Matches(_inputs[i].Value))
                throw new InvalidOperationException(
                    $"The input '{_inputs[i].Name}' was changed in place after LrpForward, so its relevance would mix the new values with the forward's activations of the old ones: clone an input before changing it, or run LrpForward again.");
    }

    /// <summary>Relevance is accumulated in float32 at least: half-precision models get float32 relevance,
    /// float64 models keep float64.</summary>
    public static ScalarType RelevanceType(ScalarType modelType) =>
        modelType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    private static bool Broadcasts(long[] from, long[] to)
    {
        if (from.Length > to.Length) return false;
        for (int i = 1; i <= from.Length; i++)
        {
            long f = from[from.Length - i], t = to[to.Length - i];
            if (f != t && f != 1) return false;
        }
        return true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_output is null) return;
            _tape.Dispose();
            _output.Dispose();
            foreach (var input in _inputs) input.Value.Dispose();
            foreach (var snapshot in _snapshots) snapshot.Dispose();
            _output = null;
        }
    }
}

/// <summary>The relevance of the inputs and of the requested latent points, for one explained quantity.
/// The caller owns the tensors.</summary>
public sealed class LrpExplanation
{
    public LrpExplanation(IReadOnlyList<Tensor> inputs, IReadOnlyDictionary<string, Tensor> latents)
    {
        Inputs = inputs;
        Latents = latents;
    }

    /// <summary>Relevance of each relevance input of forward, as <see cref="LrpPass.Backward"/> returns it.</summary>
    public IReadOnlyList<Tensor> Inputs { get; }

    /// <summary>Relevance at each requested point (value x modified gradient), shaped like the value there.</summary>
    public IReadOnlyDictionary<string, Tensor> Latents { get; }
}

/// <summary>A forward parameter that receives relevance. Used by generated code.</summary>
public readonly struct RelevanceInput
{
    public RelevanceInput(string name, Tensor value, bool isTokenIds)
    {
        Name = name;
        Value = value;
        IsTokenIds = isTokenIds;
    }

    public string Name { get; }
    public Tensor Value { get; }
    public bool IsTokenIds { get; }
}
