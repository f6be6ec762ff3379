namespace LrpGen.Models.Sentences;

/// <summary>One text as a sentence encoder reads it: the ids (with the special tokens), each id's vocabulary piece,
/// and whether the text was cut to fit the length limit.</summary>
public sealed record SentenceTokens(long[] Ids, string[] Pieces, bool Truncated)
{
    public int Length => Ids.Length;
}

/// <summary>A tokenizer in front of a sentence encoder.</summary>
public interface ISentenceTokenizer
{
    /// <summary>What it is, for reports ("WordPiece from vocab.txt, uncased, accents stripped").</summary>
    string Description { get; }

    /// <summary>The id that pads a batch (its value never matters: padding is masked).</summary>
    long PadId { get; }

    /// <summary>The ids of <paramref name="text"/> with at most <paramref name="maxTokens"/> tokens in all; a longer
    /// text is cut and says so (<see cref="SentenceTokens.Truncated"/>).</summary>
    SentenceTokens Encode(string text, int maxTokens);
}
