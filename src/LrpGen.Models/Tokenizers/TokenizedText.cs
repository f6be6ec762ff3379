namespace LrpGen.Models.Tokenizers;

/// <summary>One text, tokenized for an encoder: the ids fed to the model (the tokenizer's special tokens included),
/// the vocabulary piece of each id, and whether the text was cut to fit the length limit.</summary>
public sealed record TokenizedText(long[] Ids, string[] Pieces, bool Truncated)
{
    public int Length => Ids.Length;
}
