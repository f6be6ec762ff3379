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
    /// more than once, also from several threads at once. The caller owns the returned tensors, which are float32 (float64 for float64 models).
    /// <para>Many quantities in one backward: weights of shape [S, ...Output.shape] (the trailing dims may broadcast)
    /// explain S quantities of this one forward at once, and every relevance gets the leading dimension S ([S, ...input
    /// shape]); row s equals <c>Backward(weights[s])</c> to float rounding. <see cref="LrpOptions.MaxSeedsPerBackward"/>
    /// and <see cref="LrpOptions.SeedMemoryBudget"/> split S into chunks.</para></summary>
    public IReadOnlyList<Tensor> Backward(Tensor weights)
    {
        var explanation = Explain(weights);
        foreach (var latent in explanation.Latents.Values) latent.Dispose();
        return explanation.Inputs;
    }

    /// <summary>Like <see cref="Backward"/>, and also returns the relevance (value x modified gradient, full shape)
    /// at every point named in <see cref="LrpOptions.Latents"/>. <paramref name="latentSeeds"/> adds weights at
    /// points (conditional attribution: explain a latent neuron; pass zero <paramref name="weights"/> to
    /// explain it alone). Thread-safe: concurrent calls on one pass run one after the other. With weights of shape
    /// [S, ...Output.shape], the latent seeds are [S, ...value shape] too and every result has the leading S.</summary>
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

        using var noGrad = torch.no_grad();
        using var seeds = SeedBatch.Of(weights, output, latentSeeds);
        var chunks = new List<LrpExplanation>();
        try
        {
            long done = 0, perChunk = _context.MaxSeedsPerBackward ?? seeds.Count;
            if (_context.SeedMemoryBudget is long budget && seeds.Count > 1)
            {
                // The first seed alone measures what one seed costs; the others share the budget.
                long largest = Rules.Grad.LargestGradientBytes(() => chunks.Add(Chunk(seeds, 0, 1)));
                done = 1;
                long perSeed = Math.Max(1, largest * Rules.Grad.SeedCostFactor);
                perChunk = Math.Max(1, Math.Min(perChunk, budget / perSeed));
            }
            for (; done < seeds.Count; done += perChunk)
                chunks.Add(Chunk(seeds, done, Math.Min(perChunk, seeds.Count - done)));
            return Joined(chunks, seeds.Batched);
        }
        finally
        {
            foreach (var chunk in chunks) chunk.Dispose();
        }
    }

    /// <summary>One backward over seeds [start, start + length): relevance with the leading seed dimension.</summary>
    private LrpExplanation Chunk(SeedBatch seeds, long start, long length)
    {
        var output = Output;
        Tensor?[] grads;
        Dictionary<string, Tensor> latents;
        var (weights, latentSeeds) = seeds.Chunk(start, length);
        try
        {
            _context.BeginBackward(latentSeeds);
            try
            {
                grads = _backward(weights);
            }
            finally
            {
                latents = _context.EndBackward();
            }
        }
        finally
        {
            weights.Dispose();
            if (latentSeeds is not null) foreach (var seed in latentSeeds.Values) seed.Dispose();
        }

        var result = new Tensor[_inputs.Length];
        for (int i = 0; i < _inputs.Length; i++)
        {
            var input = _inputs[i];
            var g = i < grads.Length ? grads[i] : null;
            if (g is null)
            {
                var zerosType = input.IsTokenIds ? RelevanceType(output.dtype) : RelevanceType(input.Value.dtype);
                var shape = new long[input.Value.dim() + 1];
                shape[0] = length;
                input.Value.shape.CopyTo(shape, 1);
                result[i] = torch.zeros(shape, zerosType, device: input.Value.device);
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
                result[i] = gr.mul(xr);
            }
            g.Dispose();
        }
        return new LrpExplanation(result, latents);
    }

    /// <summary>The chunks' relevance joined along the seed dimension, which is removed for a single seed.</summary>
    private static LrpExplanation Joined(List<LrpExplanation> chunks, bool batched)
    {
        Tensor Join(Func<LrpExplanation, Tensor> part)
        {
            if (chunks.Count == 1) return batched ? part(chunks[0]).alias() : part(chunks[0]).squeeze(0);
            var parts = chunks.ConvertAll(c => part(c));
            return torch.cat(parts, 0);
        }
        var first = chunks[0];
        var inputs = new Tensor[first.Inputs.Count];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = Join(c => c.Inputs[i]);
        var latents = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var path in first.Latents.Keys) latents[path] = Join(c => c.Latents[path]);
        return new LrpExplanation(inputs, latents);
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

    /// <summary>Disposes every tensor of the explanation.</summary>
    internal void Dispose()
    {
        foreach (var t in Inputs) t.Dispose();
        foreach (var t in Latents.Values) t.Dispose();
    }
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
