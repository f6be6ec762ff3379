using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation;

/// <summary>A prompt of a <see cref="CausalLm"/> and one next-token logit to explain (at the prompt's last position).
/// Removing a token zeroes its input embedding.</summary>
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
    public CausalLmInput(CausalLm model, long[] prompt, long target, IReadOnlyList<string>? tokens = null, int answerPosition = -1)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        if (prompt is null || prompt.Length == 0) throw new ArgumentException("an empty prompt cannot be explained.", nameof(prompt));
        if (target < 0 || target >= model.Config.VocabSize)
            throw new ArgumentException($"target {target} is not a token id in [0, {model.Config.VocabSize}).", nameof(target));
        if (tokens is not null && tokens.Count != prompt.Length)
            throw new ArgumentException($"{tokens.Count} token strings for {prompt.Length} ids.", nameof(tokens));
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
    public IReadOnlyList<string> Tokens => _tokens;
    public Tensor Embeddings => _embeddings;
    public float[] Readout { get; }

    /// <summary>The target logit for each row of [N, T, hidden].</summary>
    public Tensor Score(Tensor embeddings)
    {
        using var logits = _model.Logits(embeddings);
        return logits.select(1, Target);
    }

    public float[] LrpRelevance(LrpMethod method)
    {
        using var scope = torch.NewDisposeScope();
        var batch = _embeddings.unsqueeze(0);
        using var pass = _model.ForwardEmbeddings(batch, null, new LrpOptions { Method = method });
        var weights = torch.zeros(pass.Output.shape, pass.Output.dtype, pass.Output.device);
        weights[0, Target] = torch.tensor(1.0, weights.dtype);
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
