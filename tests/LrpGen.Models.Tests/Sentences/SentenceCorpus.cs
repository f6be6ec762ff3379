using System.Linq;
using LrpGen.Models.Tests.MiniLm;

namespace LrpGen.Models.Tests.Sentences;

/// <summary>The sentences every sentence-model test embeds: the README's pair (the CLI's built-in pair) and
/// <see cref="SentenceSimilarityTests.Sentences"/> (non-ASCII, long, empty, white space, ...).</summary>
public static class SentenceCorpus
{
    public static readonly string[] ReadmePair = { "A man is playing a guitar on stage.", "Someone performs music with an instrument." };

    public static readonly string[] All = ReadmePair.Concat(SentenceSimilarityTests.Sentences).ToArray();
}
