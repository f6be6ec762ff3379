using System.Collections.Generic;
using System.Globalization;

namespace LrpGen.Cli;

/// <summary>One generated token: its id, its text (null without a tokenizer), its logit and probability at the
/// position before it, and its row's total relevance.</summary>
public sealed record GeneratedToken(long Id, string? Piece, float Logit, float Probability, float RelevanceSum);

/// <summary>What <c>lrpgen generate</c> produced, in plain arrays: what the renderers and writers consume. Positions
/// (the columns of <see cref="Relevance"/>) are the prompt's tokens, then the generated ones.</summary>
public sealed record GenerationResult
{
    public required string ModelType { get; init; }

    /// <summary>attnlrp, cplrp or gradx.</summary>
    public required string Method { get; init; }

    public required IReadOnlyList<long> PromptTokens { get; init; }

    public required IReadOnlyList<GeneratedToken> Generated { get; init; }

    /// <summary>Each position's text (prompt, then generated) when there is a tokenizer; otherwise null.</summary>
    public IReadOnlyList<string>? Pieces { get; init; }

    /// <summary>Why generation ended: max-new-tokens, eos or stop.</summary>
    public required string Stop { get; init; }

    /// <summary>One row per generated token, one column per prompt + generated position; 0 from the token's own position on.</summary>
    public required IReadOnlyList<float[]> Relevance { get; init; }

    public int Positions => PromptTokens.Count + Generated.Count;

    /// <summary>The token id at position <paramref name="t"/>.</summary>
    public long TokenAt(int t) => t < PromptTokens.Count ? PromptTokens[t] : Generated[t - PromptTokens.Count].Id;

    /// <summary>The text shown for position <paramref name="t"/>: its piece, or its id without a tokenizer.</summary>
    public string Label(int t) => Pieces is { } p ? Shown(p[t], TokenAt(t)) : TokenAt(t).ToString(CultureInfo.InvariantCulture);

    /// <summary>A piece as shown: a token the tokenizer gives no text (an id outside its vocabulary) shows its id, [14].</summary>
    public static string Shown(string piece, long id) => piece.Length > 0 ? piece : $"[{id.ToString(CultureInfo.InvariantCulture)}]";
}
