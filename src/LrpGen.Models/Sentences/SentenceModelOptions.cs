namespace LrpGen.Models.Sentences;

/// <summary>What <see cref="SentenceSimilarity.Load(string, SentenceModelOptions?)"/> cannot read from the source, or
/// should read otherwise. A value given here wins over the source's files, and <see cref="SentenceModelInfo"/> says
/// where each setting came from.</summary>
public sealed record SentenceModelOptions
{
    /// <summary>The pooling; required where the source does not say it (an ONNX file, a package assembly, a folder
    /// without modules.json).</summary>
    public PoolingMode? Pooling { get; init; }

    /// <summary>L2-normalise the embeddings that <see cref="SentenceSimilarity.Embed(string)"/> returns; required
    /// where the source does not say it. (The explained similarity is the cosine either way.)</summary>
    public bool? Normalize { get; init; }

    /// <summary>The number of attention heads, for an ONNX graph that does not show it.</summary>
    public int? Heads { get; init; }

    /// <summary>The vocabulary (a BERT vocab.txt) of an ONNX file, when it is not beside the file.</summary>
    public string? Vocabulary { get; init; }

    /// <summary>The most tokens a sentence keeps (special tokens included); longer sentences are cut (reported in
    /// <see cref="SentenceTokens.Truncated"/>). Default: the source's limit (sentence_bert_config.json's
    /// max_seq_length, a package's 512), never more than the encoder's positions.</summary>
    public int? MaxTokens { get; init; }
}

/// <summary>What was loaded and where each setting came from ("1_Pooling/config.json", "given", "built-in").</summary>
public sealed record SentenceModelInfo(string Name, string Source, PoolingMode Pooling, string PoolingFrom, bool Normalize, string NormalizeFrom,
    int MaxTokens, string MaxTokensFrom, string Tokenizer)
{
    public override string ToString() =>
        $"{Name} ({Source}): pooling {PoolingModes.Name(Pooling)} ({PoolingFrom}), normalisation {(Normalize ? "on" : "off")} ({NormalizeFrom}), "
        + $"at most {MaxTokens} tokens ({MaxTokensFrom}), {Tokenizer}";
}
