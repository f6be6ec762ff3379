using System;
using System.Collections.Generic;

namespace LrpGen.Models.Decoders;

/// <summary>The relevance of a generated answer for one prompt (<see cref="CausalLm.ExplainGeneration(long[], long[], ExplainRequest)"/>):
/// for each generated token s, the relevance of every input position t, the prompt's tokens and the earlier generated
/// ones alike. Columns are positions in <see cref="Tokens"/> (the prompt, then the generated tokens); row s explains
/// token s from position <see cref="ExplainedPosition"/>(s), the one before it, so <c>Relevance[s, t]</c> is 0 for every
/// t after that (the token itself and what follows it).</summary>
public sealed class GenerationExplanation
{
    internal GenerationExplanation(long[] prompt, long[] generated, double[,] relevance, double[] logits, double[] probabilities, double[] scores)
    {
        Prompt = prompt;
        Generated = generated;
        Relevance = relevance;
        Logits = logits;
        Probabilities = probabilities;
        Scores = scores;
        var tokens = new long[prompt.Length + generated.Length];
        prompt.CopyTo(tokens, 0);
        generated.CopyTo(tokens, prompt.Length);
        Tokens = tokens;
        RowSums = new double[generated.Length];
        for (int s = 0; s < generated.Length; s++)
            for (int t = 0; t < tokens.Length; t++) RowSums[s] += relevance[s, t];
    }

    public long[] Prompt { get; }

    /// <summary>The explained generated tokens, in order.</summary>
    public long[] Generated { get; }

    /// <summary>The prompt followed by the generated tokens: what the columns of <see cref="Relevance"/> index.</summary>
    public long[] Tokens { get; }

    /// <summary>[generated, prompt + generated]: row s, the relevance of each position for generated token s.</summary>
    public double[,] Relevance { get; }

    /// <summary>Each generated token's logit at the position before it.</summary>
    public double[] Logits { get; }

    /// <summary>Each generated token's probability there (softmax of that position's logits).</summary>
    public double[] Probabilities { get; }

    /// <summary>The quantity each row explains: the token's logit, or its contrast with the rivals of the request
    /// (logit minus the mean of the rivals' logits).</summary>
    public double[] Scores { get; }

    /// <summary>Each row's total relevance (sum over the positions).</summary>
    public double[] RowSums { get; }

    /// <summary>The position whose next-token logits row <paramref name="s"/> explains: the one before generated token s.</summary>
    public int ExplainedPosition(int s) => Prompt.Length - 1 + s;

    /// <summary>Row <paramref name="s"/> of <see cref="Relevance"/>.</summary>
    public double[] Row(int s)
    {
        var row = new double[Tokens.Length];
        for (int t = 0; t < row.Length; t++) row[t] = Relevance[s, t];
        return row;
    }
}
