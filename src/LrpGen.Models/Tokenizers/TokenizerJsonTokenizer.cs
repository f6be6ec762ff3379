using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using Tokenizers.DotNet;

namespace LrpGen.Models.Tokenizers;

/// <summary>A Hugging Face tokenizer.json (WordPiece, byte-level BPE as RoBERTa's, SentencePiece Unigram or BPE as
/// XLM-R's), run by the Hugging Face tokenizers library itself through Tokenizers.DotNet, so normalizer,
/// pre-tokenizer, model, added tokens and post-processor (the special tokens around the text) are exactly what
/// transformers' fast tokenizer does. The application adds the library's native runtime for its platform
/// (Tokenizers.DotNet.runtime.linux-x64, ...).</summary>
public sealed class TokenizerJsonTokenizer : IDisposable
{
    public const string FileName = "tokenizer.json";

    private readonly Tokenizer _tokenizer;
    private readonly Dictionary<long, string> _pieces;
    private readonly long[] _prefix, _suffix;

    private TokenizerJsonTokenizer(string path, Tokenizer tokenizer, Dictionary<long, string> pieces, HashSet<long> added, long? padId)
    {
        Path = path;
        _tokenizer = tokenizer;
        _pieces = pieces;
        PadId = padId;
        VocabularySize = pieces.Count == 0 ? 0 : (int)(pieces.Keys.Max() + 1);
        (_prefix, _suffix) = FindSpecialTokens(pieces.Where(kv => !added.Contains(kv.Key) && kv.Value.Length > 0).OrderBy(kv => kv.Key).Select(kv => kv.Value));
    }

    /// <summary>The tokenizer.json this tokenizer was read from.</summary>
    public string Path { get; }

    /// <summary>The padding id the file declares ("padding": {"pad_id"}), or null when it declares none (a model's
    /// config.json pad_token_id is then the one to use).</summary>
    public long? PadId { get; }

    /// <summary>What it is, for reports ("BPE from .../tokenizer.json").</summary>
    public string Description { get; private init; } = "";

    public int VocabularySize { get; }

    /// <summary>The special tokens the post-processor puts before and after a text (e.g. [CLS] / [SEP], &lt;s&gt; / &lt;/s&gt;).</summary>
    public IReadOnlyList<long> Prefix => _prefix;

    public IReadOnlyList<long> Suffix => _suffix;

    /// <summary>Reads a tokenizer.json. A file that is not JSON, that the library refuses, or a native library that
    /// cannot load is a one-line error naming the file.</summary>
    public static TokenizerJsonTokenizer Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"The tokenizer file {full} does not exist.", full);
        Dictionary<long, string> pieces;
        HashSet<long> added;
        long? padId;
        try
        {
            (pieces, added, padId) = ReadVocabulary(full);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{full}: its vocabulary or added_tokens do not have the form of a Hugging Face tokenizer.json ({e.Message}).", e);
        }
        Tokenizer tokenizer;
        // The file's own truncation and padding are switched off (on a copy): truncation here is by the caller's limit
        // and is reported, and a single text is never padded.
        string unpadded = WithoutTruncationAndPadding(full);
        try
        {
            tokenizer = new Tokenizer(unpadded);
        }
        catch (TokenizerException e)
        {
            throw new InvalidDataException($"{full} could not be loaded by the Hugging Face tokenizers library: {e.Message}", e);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            throw new PlatformNotSupportedException($"The native Hugging Face tokenizers library (Tokenizers.DotNet.runtime.*) could not be loaded, so {full} "
                + $"cannot be used; add the runtime package of this platform or give a vocab.txt. ({e.Message})", e);
        }
        finally
        {
            File.Delete(unpadded);
        }
        return new TokenizerJsonTokenizer(full, tokenizer, pieces, added, padId) { Description = $"{ModelType(full)} from {full} (Hugging Face tokenizers)" };
    }

    private static string ModelType(string path) =>
        JsonFile.ReadObject(path).TryGetProperty("model", out var model) && model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()! : "tokenizer";

    private static string WithoutTruncationAndPadding(string path)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true })!.AsObject();
        root["truncation"] = null;
        root["padding"] = null;
        string copy = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lrpgen-tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(copy, root.ToJsonString());
        return copy;
    }

    /// <summary>The piece of an id: its vocabulary entry or added token ("Ġworld", "▁world", "##ing", "&lt;s&gt;").</summary>
    public string Piece(long id) => _pieces.TryGetValue(id, out var piece) ? piece : throw new ArgumentOutOfRangeException(nameof(id), $"id {id} is not in {Path}.");

    /// <summary>The ids of the text with the post-processor's special tokens; a text longer than
    /// <paramref name="maxTokens"/> keeps its first pieces and the special tokens (as transformers truncates).</summary>
    public TokenizedText Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        int specials = _prefix.Length + _suffix.Length;
        if (maxTokens <= specials)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), $"maxTokens is {maxTokens}; it must leave room for the {specials} special tokens of {Path} and one piece.");
        var all = EncodeAll(text);
        bool truncated = all.Length > maxTokens;
        var ids = truncated ? all.Take(maxTokens - _suffix.Length).Concat(_suffix).ToArray() : all;
        return new TokenizedText(ids, ids.Select(Piece).ToArray(), truncated);
    }

    private long[] EncodeAll(string text)
    {
        try
        {
            return _tokenizer.Encode(text).Select(id => (long)id).ToArray();
        }
        catch (TokenizerException e)
        {
            throw new InvalidDataException($"{Path} could not tokenize the text: {e.Message}", e);
        }
    }

    /// <summary>The post-processor's tokens: those of the empty text, split where a text of a few pieces puts them
    /// (the longest prefix both begin with; the rest must end that text). The probes are short common texts, then
    /// vocabulary pieces, until one gives a token of its own.</summary>
    private (long[] Prefix, long[] Suffix) FindSpecialTokens(IEnumerable<string> vocabularyPieces)
    {
        var empty = EncodeAll("");
        foreach (var probe in new[] { "a", "e", "x", "1", ".", "hello" }.Concat(vocabularyPieces.Take(64)))
        {
            var one = EncodeAll(probe);
            if (one.Length <= empty.Length) continue;
            int k = 0;
            while (k < empty.Length && empty[k] == one[k]) k++;
            if (one.AsSpan(one.Length - (empty.Length - k)).SequenceEqual(empty.AsSpan(k)))
                return (empty[..k], empty[k..]);
        }
        throw new InvalidDataException($"{Path}: cannot tell which special tokens its post-processor adds around a text (no probe text gave a token).");
    }

    /// <summary>id -> piece from the model's vocabulary (an object piece -> id for WordPiece and BPE, a list of
    /// [piece, score] for Unigram) and the added tokens; the padding id from "padding" when the file sets it.</summary>
    private static (Dictionary<long, string> Pieces, HashSet<long> Added, long? PadId) ReadVocabulary(string path)
    {
        var root = JsonFile.ReadObject(path);
        var pieces = new Dictionary<long, string>();
        if (!root.TryGetProperty("model", out var model) || !model.TryGetProperty("vocab", out var vocab))
            throw new InvalidDataException($"{path} has no model.vocab, so it is not a Hugging Face tokenizer.json.");
        if (vocab.ValueKind == JsonValueKind.Object)
            foreach (var entry in vocab.EnumerateObject())
                pieces[entry.Value.GetInt64()] = entry.Name;
        else if (vocab.ValueKind == JsonValueKind.Array)
        {
            long id = 0;
            foreach (var entry in vocab.EnumerateArray())
                pieces[id++] = entry[0].GetString() ?? "";
        }
        else
            throw new InvalidDataException($"{path}: model.vocab is {vocab.ValueKind}, not an object or a list.");
        var addedIds = new HashSet<long>();
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var token in added.EnumerateArray())
            {
                long id = token.GetProperty("id").GetInt64();
                pieces[id] = token.GetProperty("content").GetString() ?? "";
                addedIds.Add(id);
            }
        long? pad = root.TryGetProperty("padding", out var padding) && padding.ValueKind == JsonValueKind.Object
            && padding.TryGetProperty("pad_id", out var padId) ? padId.GetInt64() : null;
        return (pieces, addedIds, pad);
    }

    public void Dispose() => _tokenizer.Dispose();
}
