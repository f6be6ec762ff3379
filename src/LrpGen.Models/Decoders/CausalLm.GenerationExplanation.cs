using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

public sealed partial class CausalLm
{
    /// <summary>The output layer of every causal family here (the point name of its input).</summary>
    private const string OutputLayer = "lm_head";

    /// <summary>Explains a generated answer: see <see cref="ExplainGeneration(IReadOnlyList{long[]}, IReadOnlyList{long[]}, ExplainRequest, bool)"/>.</summary>
    public GenerationExplanation ExplainGeneration(long[] prompt, long[] generated, ExplainRequest request) =>
        ExplainGeneration(new[] { prompt ?? throw new ArgumentNullException(nameof(prompt)) },
            new[] { generated ?? throw new ArgumentNullException(nameof(generated)) }, request)[0];

    /// <summary>Explains the generated tokens of a batch of prompts with one relevance forward over each prompt followed
    /// by its generated tokens (all but the last, which is only explained) and one backward with a seed per generated
    /// token: seed s is the logit of generated token s at the position before it (minus the mean of the request's
    /// rivals there), in every prompt of the batch at once (the prompts do not interact). Row s of a prompt's matrix
    /// equals what <see cref="Explain(IReadOnlyList{long[]}, ExplainRequest, bool)"/> gives for the prefix up to that
    /// position with token s as the target. The request's <see cref="ExplainRequest.Method"/>,
    /// <see cref="ExplainRequest.Rivals"/> and <see cref="ExplainRequest.Interventions"/> apply; targets are the generated
    /// tokens, so <see cref="ExplainRequest.Targets"/>, latent points and latent seeds are refused. The forward computes
    /// only the logits explained (each row's token and the rivals, <see cref="ExplainedLogits"/>) besides each row's
    /// normaliser over the vocabulary, so S answer tokens of a batch of B prompts take seed weights of S x B x S x
    /// (2 + rivals) numbers, and the backward through the output layer runs over those ids, not the vocabulary (its
    /// widest gradient there is S x B x S x B x S x (1 + rivals) numbers, where dense seeds took S x B x S x vocab).</summary>
    public IReadOnlyList<GenerationExplanation> ExplainGeneration(IReadOnlyList<long[]> prompts, IReadOnlyList<long[]> generated,
        ExplainRequest request, bool padLeft = true)
    {
        if (prompts is null) throw new ArgumentNullException(nameof(prompts));
        if (generated is null) throw new ArgumentNullException(nameof(generated));
        if (request is null) throw new ArgumentNullException(nameof(request));
        CheckPrompts(prompts, nameof(prompts));
        if (generated.Count != prompts.Count)
            throw new ArgumentException($"{generated.Count} generated answers for {prompts.Count} prompts: give one per prompt.", nameof(generated));
        for (int b = 0; b < generated.Count; b++)
        {
            if (generated[b] is null || generated[b].Length == 0)
                throw new ArgumentException($"prompt {b} has no generated tokens to explain.", nameof(generated));
            for (int s = 0; s < generated[b].Length; s++)
                if (generated[b][s] < 0 || generated[b][s] >= Config.VocabSize)
                    throw new ArgumentException($"prompt {b}: generated token {generated[b][s]} ({s}) is outside the vocabulary [0, {Config.VocabSize}).", nameof(generated));
        }
        if (request.Targets is not null)
            throw new ArgumentException("ExplainGeneration explains the generated tokens: leave ExplainRequest.Targets null.", nameof(request));
        if (request.Latents.Count > 0 || request.Seeds is not null)
            throw new ArgumentException("ExplainGeneration reports relevance at the tokens only: leave ExplainRequest.Latents empty and Seeds null.", nameof(request));
        var rivals = request.Rivals ?? Array.Empty<long>();
        foreach (var rival in rivals)
            if (rival < 0 || rival >= Config.VocabSize)
                throw new ArgumentException($"rival {rival} is not a token id in [0, {Config.VocabSize}).", nameof(request));
        if (request.Interventions is { } interventions && interventions.ContainsKey(OutputLayer))
            throw new ArgumentException($"ExplainGeneration computes only the explained logits, without the '{OutputLayer}' layer's full output: intervene at an earlier point (e.g. a layer or the final norm).", nameof(request));

        using var scope = torch.NewDisposeScope();
        int batch = prompts.Count;
        int seeds = generated.Max(g => g.Length);
        // The forward sees each prompt and its generated tokens but the last (only explained, never an input).
        var inputs = prompts.Select((p, b) => p.Concat(generated[b].Take(generated[b].Length - 1)).ToArray()).ToArray();
        int length = inputs.Max(x => x.Length);
        var offsets = inputs.Select(x => padLeft ? length - x.Length : 0).ToArray();
        // Output row b * seeds + s: the logits before generated token s of prompt b (rows past a shorter answer repeat
        // its first position and get no seed), of that token (column 0) and the rivals (columns 1..), then the row's
        // log-sum-exp over the vocabulary (column named).
        int named = 1 + rivals.Count;
        var explained = new long[batch, seeds];
        var explainedIds = new long[batch, seeds, named];
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < seeds; s++)
            {
                explained[b, s] = offsets[b] + prompts[b].Length - 1 + (s < generated[b].Length ? s : 0);
                explainedIds[b, s, 0] = s < generated[b].Length ? generated[b][s] : generated[b][0];
                for (int r = 0; r < rivals.Count; r++) explainedIds[b, s, 1 + r] = rivals[r];
            }

        var (ids, mask) = Padded(inputs, padLeft);
        var options = new LrpOptions
        {
            Method = request.Method,
            Interventions = request.Interventions ?? new Dictionary<string, Func<Tensor, Tensor>>(),
        };
        using var onDevice = ids.to(Device);
        using var maskOnDevice = mask.to(Device);
        using var explainedOnDevice = torch.tensor(explained).to(Device);
        using var explainedIdsOnDevice = torch.tensor(explainedIds).to(Device);
        using var decoderInputs = DecoderInputs.Prepare(Config, onDevice, maskOnDevice, DType, Device, rotary: _module.Rotary,
            explained: explainedOnDevice, explainedIds: explainedIdsOnDevice);
        using var pass = ForwardPrepared(onDevice, decoderInputs, options);
        var output = pass.Output;                                                     // [batch * seeds, named + 1]
        long outputColumns = output.shape[1];

        // One seed per generated position, covering every prompt of the batch: [seeds, batch * seeds, named + 1].
        var seedWeights = new float[(long)seeds * batch * seeds * outputColumns];
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < generated[b].Length; s++)
            {
                long row = ((long)s * batch * seeds + b * seeds + s) * outputColumns;
                seedWeights[row] = 1;
                for (int r = 0; r < rivals.Count; r++) seedWeights[row + 1 + r] = -1f / rivals.Count;
            }
        var weights = torch.tensor(seedWeights, new long[] { seeds, batch * seeds, outputColumns }).to(output.dtype, output.device);
        var explanation = pass.Explain(weights);
        var relevance = explanation.Inputs[0].sum(-1).to(ScalarType.Float64, torch.CPU);  // [seeds, batch, T]
        var relevanceValues = relevance.data<double>().ToArray();
        var outputValues = output.to(ScalarType.Float64, torch.CPU).data<double>().ToArray();

        var result = new GenerationExplanation[batch];
        for (int b = 0; b < batch; b++)
        {
            int answer = generated[b].Length, columns = prompts[b].Length + answer;
            var matrix = new double[answer, columns];
            var tokenLogits = new double[answer];
            var tokenProbabilities = new double[answer];
            var tokenScores = new double[answer];
            for (int s = 0; s < answer; s++)
            {
                // Positions up to the explained one (prompt.Length - 1 + s) are its inputs; later ones stay 0.
                for (int t = 0; t < prompts[b].Length + s; t++)
                    matrix[s, t] = relevanceValues[((long)s * batch + b) * length + offsets[b] + t];
                // Seed s covers every prompt; prompt b's part of it is on its own output row.
                long at = (long)(b * seeds + s) * outputColumns;
                tokenLogits[s] = outputValues[at];
                tokenProbabilities[s] = Math.Exp(outputValues[at] - outputValues[at + named]);
                double rivalSum = 0;
                for (int r = 0; r < rivals.Count; r++) rivalSum += outputValues[at + 1 + r];
                tokenScores[s] = outputValues[at] - rivalSum / Math.Max(1, rivals.Count);
            }
            result[b] = new GenerationExplanation(prompts[b].ToArray(), generated[b].ToArray(), matrix, tokenLogits, tokenProbabilities, tokenScores);
        }
        return result;
    }

    /// <summary>The relevance forward on token ids already on the device with their prepared inputs.</summary>
    private LrpPass ForwardPrepared(Tensor ids, DecoderInputs inputs, LrpOptions options)
    {
        using var noGrad = torch.no_grad();
        using var embeds = Embeddings.forward(ids);
        return _module.Forward(embeds, inputs, options);
    }
}
