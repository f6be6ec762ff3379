using System.Collections.Generic;

namespace LrpGen.Cli;

/// <summary>What one explanation produced, in plain arrays: what the renderers and writers consume.</summary>
public sealed record ExplainResult
{
    /// <summary>config.json's model_type (llama, qwen3_moe).</summary>
    public required string ModelType { get; init; }

    /// <summary>attnlrp, cplrp or gradx.</summary>
    public required string Method { get; init; }

    public required long Target { get; init; }

    /// <summary>The target token's text, when the folder has a tokenizer.</summary>
    public string? TargetPiece { get; init; }

    public required float Logit { get; init; }

    public required IReadOnlyList<long> Tokens { get; init; }

    /// <summary>Each token's text, when the folder has a tokenizer; otherwise null.</summary>
    public IReadOnlyList<string>? Pieces { get; init; }

    /// <summary>Relevance per input position.</summary>
    public required IReadOnlyList<float> Relevance { get; init; }

    /// <summary>Relevance at each block output, summed over the hidden dimension, per position ("layers.0", ...), in
    /// block order.</summary>
    public required IReadOnlyList<KeyValuePair<string, float[]>> Latent { get; init; }

    /// <summary>The text shown for position <paramref name="i"/>: its piece, or its id without a tokenizer.</summary>
    public string Label(int i) => Pieces is { } p ? p[i] : Tokens[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
}
