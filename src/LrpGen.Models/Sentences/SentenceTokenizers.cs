using System;
using System.IO;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Tokenizers;

namespace LrpGen.Models.Sentences;

/// <summary>The tokenizer for a vocabulary file, from <c>src/LrpGen.Models/Tokenizers</c>: a BERT vocab.txt is
/// Hugging Face's BertTokenizer (options from tokenizer_config.json beside it, uncased when there is none, as
/// transformers defaults), a tokenizer.json is run by the Hugging Face tokenizers library; and the adapters that put
/// them, and the SentenceTransformers.* packages' tokenizer, behind <see cref="ISentenceTokenizer"/>.</summary>
public static class SentenceTokenizers
{
    public const string VocabularyFileName = "vocab.txt";
    public const string TokenizerJsonFileName = TokenizerJsonTokenizer.FileName;
    public const string ConfigFileName = "tokenizer_config.json";

    /// <summary>The tokenizer of a folder: its vocab.txt, else its tokenizer.json.</summary>
    public static ISentenceTokenizer ForFolder(string folder)
    {
        string vocab = Path.Combine(folder, VocabularyFileName);
        string json = Path.Combine(folder, TokenizerJsonFileName);
        if (File.Exists(vocab)) return FromFile(vocab);
        if (File.Exists(json)) return FromFile(json);
        throw new FileNotFoundException($"{folder} has no {VocabularyFileName} nor {TokenizerJsonFileName}: give the vocabulary (--vocab FILE).", vocab);
    }

    /// <summary>The tokenizer of one vocabulary file (vocab.txt or tokenizer.json).</summary>
    public static ISentenceTokenizer FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The vocabulary {path} does not exist.", path);
        if (Path.GetFileName(path).Equals(TokenizerJsonFileName, StringComparison.OrdinalIgnoreCase))
        {
            var json = TokenizerJsonTokenizer.Load(path);
            return new Adapter(json.Description, json.PadId ?? 0, json.Encode);
        }
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, ConfigFileName);
        var options = File.Exists(config) ? WordPieceOptions.FromTokenizerConfig(config) : WordPieceOptions.Uncased;
        var wordPiece = BertWordPieceTokenizer.FromVocabFile(path, options);
        return new Adapter(wordPiece.Description, wordPiece.PadId, wordPiece.Encode);
    }

    /// <summary>The SentenceTransformers.* packages' own tokenizer over a package vocabulary.</summary>
    public static ISentenceTokenizer ForPackage(MiniLmTokenizer tokenizer) =>
        new Adapter("the SentenceTransformers packages' WordPiece (uncased, accents kept)", tokenizer.PadId,
            (text, max) =>
            {
                var e = tokenizer.Encode(text, Math.Min(max, MiniLmTokenizer.MaxTokens));
                return new TokenizedText(e.Ids, e.Pieces, e.Truncated);
            });

    private sealed class Adapter(string description, long padId, Func<string, int, TokenizedText> encode) : ISentenceTokenizer
    {
        public string Description => description;
        public long PadId => padId;

        public SentenceTokens Encode(string text, int maxTokens)
        {
            var t = encode(text, maxTokens);
            return new SentenceTokens(t.Ids, t.Pieces, t.Truncated);
        }
    }
}
