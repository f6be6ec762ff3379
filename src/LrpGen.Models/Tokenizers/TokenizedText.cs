namespace LrpGen.Models.Tokenizers;

/// <summary>One text, tokenized for an encoder: the ids fed to the model (the tokenizer's special tokens included),
/// the vocabulary piece of each id, and whether the text was cut to fit the length limit.</summary>
public sealed record TokenizedText(long[] Ids, string[] Pieces, bool Truncated)
{
    public int Length => Ids.Length;
}

/// <summary>A tokenizer for a sentence encoder: text to ids with the model's special tokens, cut to a length limit
/// the way Hugging Face truncates (the text is shortened, the special tokens stay).</summary>
public interface ISentenceTokenizer
{
    /// <summary>Tokenizes <paramref name="text"/>; at most <paramref name="maxTokens"/> ids, special tokens included.</summary>
    TokenizedText Encode(string text, int maxTokens);

    /// <summary>The padding token's id as the tokenizer itself declares it, or null when it declares none.</summary>
    long? PadId { get; }

    /// <summary>The number of ids the tokenizer can produce (its vocabulary plus added tokens).</summary>
    int VocabularySize { get; }
}
