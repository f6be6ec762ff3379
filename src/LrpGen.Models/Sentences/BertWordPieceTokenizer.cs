using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace LrpGen.Models.Sentences;

/// <summary>Hugging Face's BertTokenizer over a vocab.txt, run by Microsoft.ML.Tokenizers: basic tokenization (split on
/// white space and punctuation, CJK characters alone), lower-casing and accent stripping as tokenizer_config.json says
/// (<c>do_lower_case</c>, default true; <c>strip_accents</c>, default: as lower-casing; <c>tokenize_chinese_chars</c>,
/// default true), then WordPiece. A long text keeps <c>[CLS]</c>, its first pieces and <c>[SEP]</c>, as Hugging Face's
/// truncation does.</summary>
public sealed class BertWordPieceTokenizer : ISentenceTokenizer
{
    public const string VocabularyFileName = "vocab.txt";
    public const string ConfigFileName = "tokenizer_config.json";

    private readonly BertTokenizer _tokenizer;
    private readonly string[] _pieces;

    private BertWordPieceTokenizer(BertTokenizer tokenizer, string[] pieces, string description)
    {
        _tokenizer = tokenizer;
        _pieces = pieces;
        Description = description;
    }

    public string Description { get; }
    public long PadId => _tokenizer.PaddingTokenId;

    /// <summary>From <paramref name="vocabularyPath"/>, with the options of <paramref name="configPath"/> when it
    /// exists (tokenizer_config.json beside the vocabulary, normally).</summary>
    public static BertWordPieceTokenizer Load(string vocabularyPath, string? configPath)
    {
        if (!File.Exists(vocabularyPath))
            throw new FileNotFoundException($"The vocabulary {vocabularyPath} does not exist.", vocabularyPath);
        bool lower = true, chinese = true;
        bool? strip = null;
        if (configPath is not null && File.Exists(configPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
            var root = doc.RootElement;
            lower = Flag(root, "do_lower_case", configPath) ?? true;
            strip = Flag(root, "strip_accents", configPath);
            chinese = Flag(root, "tokenize_chinese_chars", configPath) ?? true;
        }
        bool stripAccents = strip ?? lower;
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = lower,
            RemoveNonSpacingMarks = stripAccents,
            IndividuallyTokenizeCjk = chinese,
        };
        var tokenizer = BertTokenizer.Create(vocabularyPath, options);
        var pieces = new List<string>();
        foreach (string line in File.ReadLines(vocabularyPath, Encoding.UTF8))
            pieces.Add(line.TrimEnd('\r'));
        string description = $"WordPiece from {Path.GetFileName(vocabularyPath)} ({(lower ? "uncased" : "cased")}, accents {(stripAccents ? "stripped" : "kept")})";
        return new BertWordPieceTokenizer(tokenizer, pieces.ToArray(), description);
    }

    private static bool? Flag(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}: '{key}' is {value.GetRawText()}, not true, false or null."),
        };
    }

    public SentenceTokens Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, "the limit must leave room for [CLS] and [SEP].");
        var body = _tokenizer.EncodeToIds(text, addSpecialTokens: false);
        bool truncated = body.Count > maxTokens - 2;
        var ids = new List<long>(Math.Min(body.Count, maxTokens - 2) + 2) { _tokenizer.ClassificationTokenId };
        ids.AddRange(body.Take(maxTokens - 2).Select(id => (long)id));
        ids.Add(_tokenizer.SeparatorTokenId);
        var pieces = ids.Select(id => id >= 0 && id < _pieces.Length ? _pieces[id] : "?").ToArray();
        return new SentenceTokens(ids.ToArray(), pieces, truncated);
    }
}
