using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Sentences;

/// <summary>How one encoder family is built from a Hugging Face folder: <paramref name="FromCheckpoint"/> reads
/// config.json, builds the encoder with the given head, checks every shape and loads every encoder weight (the head's
/// Dense weights, which live in 2_Dense, are loaded by the caller: parameters under "head.").</summary>
public sealed record SentenceEncoderFamily(string ModelType, Func<CheckpointFolder, SentenceHeadConfig, ISentenceEncoder> FromCheckpoint);

/// <summary>The encoder families a sentence-transformers folder may use, keyed by config.json's <c>model_type</c>.
/// A new family is one entry in <see cref="Known"/>.</summary>
public static class SentenceEncoderFamilies
{
    private static readonly SentenceEncoderFamily[] Known =
    {
        BertSentenceFamily.Family,
        RobertaSentenceFamily.Roberta,
        RobertaSentenceFamily.XlmRoberta,
        DistilBertSentenceFamily.Family,
    };

    private static readonly Dictionary<string, SentenceEncoderFamily> ByModelType =
        Known.ToDictionary(f => f.ModelType, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> ModelTypes => ByModelType.Keys;

    /// <summary>The family of <paramref name="modelType"/>; an unknown one is an error naming the known ones.</summary>
    public static SentenceEncoderFamily For(string modelType, string configPath) =>
        ByModelType.TryGetValue(modelType, out var family)
            ? family
            : throw new CheckpointException($"{configPath}: model_type '{modelType}' has no sentence encoder here; supported: {string.Join(", ", ModelTypes)}.", configPath);
}
