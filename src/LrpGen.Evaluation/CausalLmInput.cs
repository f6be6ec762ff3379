using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>A prompt of a <see cref="CausalLm"/> and one next-token logit to explain (at the prompt's last position),
/// or its contrast with rivals: the target's logit minus the mean of the rivals' logits (seed weights +1 and -1/N, as
/// <see cref="ExplainRequest.Rivals"/>). Removing a token zeroes its input embedding.</summary>
public sealed class CausalLmInput : IAnsweredInput
{
    private readonly CausalLm _model;
    private readonly Tensor _embeddings;
    private readonly IReadOnlyList<string> _tokens;

    /// <param name="model">The model (not owned).</param>
    /// <param name="prompt">The prompt's token ids.</param>
    /// <param name="target">The token whose logit is explained.</param>
    /// <param name="tokens">Display strings of the prompt's tokens (null: the ids).</param>
    /// <param name="answerPosition">The position of the token that carries the answer, for token identification
    /// (-1: none).</param>
    /// <param name="rivals">Tokens whose mean logit is subtracted from the target's (null or empty: the target's logit
    /// alone).</param>
    /// <param name="evidencePositions">Every position the answer needs, the answer position among them (null: the
    /// answer position alone).</param>
    public CausalLmInput(CausalLm model, long[] prompt, long target, IReadOnlyList<string>? tokens = null, int answerPosition = -1,
        IReadOnlyList<long>? rivals = null, IReadOnlyList<int>? evidencePositions = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        if (prompt is null || prompt.Length == 0) throw new ArgumentException("an empty prompt cannot be explained.", nameof(prompt));
        if (target < 0 || target >= model.Config.VocabSize)
            throw new ArgumentException($"target {target} is not a token id in [0, {model.Config.VocabSize}).", nameof(target));
        if (tokens is not null && tokens.Count != prompt.Length)
            throw new ArgumentException($"{tokens.Count} token strings for {prompt.Length} ids.", nameof(tokens));
        Rivals = rivals?.ToArray() ?? Array.Empty<long>();
        foreach (var rival in Rivals)
        {
            if (rival < 0 || rival >= model.Config.VocabSize)
                throw new ArgumentException($"rival {rival} is not a token id in [0, {model.Config.VocabSize}).", nameof(rivals));
            if (rival == target) throw new ArgumentException($"rival {rival} is the target itself: a contrast with itself is zero.", nameof(rivals));
        }
        if (Rivals.Distinct().Count() != Rivals.Length) throw new ArgumentException("a rival is listed twice: list each once.", nameof(rivals));
        EvidencePositions = evidencePositions?.ToArray() ?? new[] { answerPosition };
        if (evidencePositions is not null && (EvidencePositions.Any(p => p < 0 || p >= prompt.Length) || !EvidencePositions.Contains(answerPosition)))
            throw new ArgumentException($"evidence positions [{string.Join(", ", EvidencePositions)}] must lie in the prompt's {prompt.Length} tokens and include the answer position {answerPosition}.", nameof(evidencePositions));
        Prompt = prompt;
        Target = target;
        AnswerPosition = answerPosition;
        _tokens = tokens ?? prompt.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        using var ids = torch.tensor(prompt).unsqueeze(0);
        using var batch = model.Embed(ids);
        _embeddings = batch[0].detach().clone();
        Readout = new float[prompt.Length];
        Readout[^1] = 1f;
    }

    public long[] Prompt { get; }
    public long Target { get; }
    public int AnswerPosition { get; }
    public IReadOnlyList<int> EvidencePositions { get; }

    /// <summary>The rivals whose mean logit is subtracted (empty: the target's logit is explained).</summary>
    public long[] Rivals { get; }

    public IReadOnlyList<string> Tokens => _tokens;
    public Tensor Embeddings => _embeddings;
    public float[] Readout { get; }

    /// <summary>The explained quantity for each row of [N, T, hidden]: the target logit, minus the rivals' mean
    /// logit when there are rivals.</summary>
    public Tensor Score(Tensor embeddings)
    {
        using var logits = _model.Logits(embeddings);
        if (Rivals.Length == 0) return logits.select(1, Target);
        using var weights = SeedWeights(logits.shape[1], logits.dtype, logits.device);
        return logits.matmul(weights);
    }

    /// <summary>The weight of each vocabulary logit in the explained quantity [vocab]: 1 at the target, -1/N at each
    /// of the N rivals, 0 elsewhere.</summary>
    public Tensor SeedWeights(long vocab, ScalarType dtype, Device device)
    {
        var weights = new double[vocab];
        weights[Target] = 1;
        foreach (var rival in Rivals) weights[rival] = -1.0 / Rivals.Length;
        using var cpu = torch.tensor(weights);
        return cpu.to(dtype, device);
    }

    public float[] LrpRelevance(LrpMethod method)
    {
        using var scope = torch.NewDisposeScope();
        var batch = _embeddings.unsqueeze(0);
        using var pass = _model.ForwardEmbeddings(batch, null, new LrpOptions { Method = method });
        var weights = SeedWeights(pass.Output.shape[1], pass.Output.dtype, pass.Output.device).unsqueeze(0);
        var relevance = pass.Backward(weights)[0];
        var tokens = relevance[0].sum(new long[] { -1 }).to(ScalarType.Float32).cpu();
        return tokens.data<float>().ToArray();
    }

    public IReadOnlyList<Tensor> AttentionProbabilities()
    {
        using var batch = _embeddings.unsqueeze(0);
        var layers = _model.AttentionProbabilities(batch);
        var result = layers.Select(l => l[0].to(ScalarType.Float32)).ToList();
        foreach (var l in layers) l.Dispose();
        return result;
    }

    public void Dispose() => _embeddings.Dispose();
}
