using System;
using System.Collections.Generic;
using System.Globalization;

namespace LrpGen.Models.Decoders;

/// <summary>How <see cref="CausalLm.Generate(IReadOnlyList{long[]}, GenerationOptions)"/> continues prompts. Greedy
/// (the top logit) unless <see cref="Temperature"/> is above 0; then tokens are drawn from the softmax of logits /
/// temperature, restricted by <see cref="TopK"/> and <see cref="TopP"/>, with a generator per prompt seeded
/// <see cref="Seed"/> + the prompt's index (so a prompt draws the same tokens alone as in a batch).</summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to add to each prompt (at least 1).</summary>
    public int MaxNewTokens { get; init; } = 20;

    /// <summary>0 (default): greedy; above 0: sampling from softmax(logits / temperature).</summary>
    public double Temperature { get; init; }

    /// <summary>Sampling only: draw among the K most probable tokens (null: all).</summary>
    public int? TopK { get; init; }

    /// <summary>Sampling only: draw among the most probable tokens whose probabilities add up to P, in (0, 1] (null: all).</summary>
    public double? TopP { get; init; }

    /// <summary>Sampling only: the seed of the first prompt's generator (null: a random seed).</summary>
    public int? Seed { get; init; }

    /// <summary>Tokens that end a prompt's generation (kept as its last token). Null: the model's eos_token_id
    /// (generation_config.json, else config.json); empty: none.</summary>
    public IReadOnlyList<long>? EosTokenIds { get; init; }

    /// <summary>Texts that end a prompt's generation once its generated text contains one (the tokens that complete it
    /// are kept). Needs <see cref="Decode"/>.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = Array.Empty<string>();

    /// <summary>The text of generated token ids, for <see cref="StopStrings"/> (the caller's tokenizer).</summary>
    public Func<IReadOnlyList<long>, string>? Decode { get; init; }

    /// <summary>Whether prompts of different lengths are padded on the left (default) or the right in each step's
    /// batch; the tokens are the same either way (positions count real tokens, the mask hides padding).</summary>
    public bool PadLeft { get; init; } = true;

    public bool Sampling => Temperature > 0;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first wrong option and its fix.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 1)
            throw new ArgumentException($"MaxNewTokens {MaxNewTokens}: generate at least one token (1 or more).", nameof(MaxNewTokens));
        if (!double.IsFinite(Temperature) || Temperature < 0)
            throw new ArgumentException($"Temperature {Format(Temperature)} is not a finite number >= 0 (0: greedy, above 0: sampling).", nameof(Temperature));
        if (TopK is int k && k < 1)
            throw new ArgumentException($"TopK {k} is not at least 1.", nameof(TopK));
        if (TopP is double p && !(p > 0 && p <= 1))
            throw new ArgumentException($"TopP {Format(p)} is not in (0, 1].", nameof(TopP));
        if (!Sampling && (TopK is not null || TopP is not null))
            throw new ArgumentException("TopK and TopP restrict sampling, but Temperature is 0 (greedy): give a Temperature above 0 to sample, or leave them out.", nameof(Temperature));
        foreach (var stop in StopStrings)
            if (string.IsNullOrEmpty(stop))
                throw new ArgumentException("a stop string is empty: every stop string needs at least one character.", nameof(StopStrings));
        if (StopStrings.Count > 0 && Decode is null)
            throw new ArgumentException("StopStrings need Decode (the tokenizer's text of token ids) to see the generated text.", nameof(Decode));
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Why a prompt's generation ended.</summary>
public enum GenerationStop
{
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    MaxNewTokens,

    /// <summary>The last token is an end-of-sequence token.</summary>
    EndOfSequence,

    /// <summary>The generated text contains a stop string.</summary>
    StopString,
}

/// <summary>One prompt's continuation: the prompt, the generated tokens (an EOS or the tokens completing a stop string
/// included) and why it stopped.</summary>
public sealed record GeneratedSequence(long[] Prompt, long[] Tokens, GenerationStop Stop);
