using System;
using System.IO;

namespace LrpGen.Models.Sentences;

/// <summary>The tokenizer for a vocabulary file: a BERT vocab.txt is Hugging Face's BertTokenizer
/// (<see cref="BertWordPieceTokenizer"/>, options from tokenizer_config.json beside it).</summary>
public static class SentenceTokenizers
{
    public const string TokenizerJsonFileName = "tokenizer.json";

    /// <summary>The tokenizer of a folder: its vocab.txt (or its tokenizer.json).</summary>
    public static ISentenceTokenizer ForFolder(string folder)
    {
        string vocab = Path.Combine(folder, BertWordPieceTokenizer.VocabularyFileName);
        string json = Path.Combine(folder, TokenizerJsonFileName);
        if (File.Exists(vocab)) return FromFile(vocab);
        if (File.Exists(json)) return FromFile(json);
        throw new FileNotFoundException($"{folder} has no {BertWordPieceTokenizer.VocabularyFileName} nor {TokenizerJsonFileName}: give the vocabulary (--vocab FILE).", vocab);
    }

    /// <summary>The tokenizer of one vocabulary file.</summary>
    public static ISentenceTokenizer FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The vocabulary {path} does not exist.", path);
        string name = Path.GetFileName(path);
        if (name.Equals(TokenizerJsonFileName, StringComparison.OrdinalIgnoreCase))
            throw new NotSupportedException($"{path}: a tokenizer.json is not read for sentence models yet; give the model's vocab.txt (--vocab FILE).");
        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, BertWordPieceTokenizer.ConfigFileName);
        return BertWordPieceTokenizer.Load(path, config);
    }
}
