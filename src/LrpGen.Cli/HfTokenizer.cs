using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Tokenizers.DotNet;

namespace LrpGen.Cli;

/// <summary>A Hugging Face tokenizer.json, run by the Hugging Face tokenizers library itself (Tokenizers.DotNet, a
/// native binding), so normalizers, pre-tokenizers, byte-level BPE, added tokens and the post-processor (BOS) are
/// exactly what transformers does. A prompt's pieces are the text each token adds to the decoded prompt (so they keep
/// the spaces that decoders such as SentencePiece's strip from a lone token, and concatenate back to the text);
/// special tokens, which decoding skips, show as their content from tokenizer.json's added_tokens.</summary>
public sealed class HfTokenizer : IPromptTokenizer
{
    public const string FileName = "tokenizer.json";

    private readonly Tokenizer _tokenizer;
    private readonly Dictionary<long, string> _addedTokens;

    private HfTokenizer(Tokenizer tokenizer, Dictionary<long, string> addedTokens)
    {
        _tokenizer = tokenizer;
        _addedTokens = addedTokens;
    }

    public string Path { get; private init; } = "";

    /// <summary>The folder's tokenizer.json, or null when it has none. A file that cannot be loaded is an error.</summary>
    public static HfTokenizer? TryLoad(string modelDir)
    {
        var path = System.IO.Path.Combine(modelDir, FileName);
        if (!File.Exists(path)) return null;
        Dictionary<long, string> added;
        try
        {
            added = ReadAddedTokens(path);
        }
        catch (JsonException e)
        {
            throw new CliRuntimeException($"{path} is not valid JSON: {e.Message}", e);
        }
        try
        {
            return new HfTokenizer(new Tokenizer(path), added) { Path = path };
        }
        catch (TokenizerException e)
        {
            throw new CliRuntimeException($"{path} could not be loaded by the tokenizers library: {e.Message}", e);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
        {
            throw new CliRuntimeException($"the native tokenizers library (Tokenizers.DotNet) could not be loaded on this platform, "
                + $"so {path} cannot be used; give the prompt as --ids instead. ({e.Message})", e);
        }
    }

    /// <summary>Token ids of <paramref name="text"/>, with the special tokens the tokenizer's post-processor adds.</summary>
    public long[] Encode(string text)
    {
        try
        {
            return _tokenizer.Encode(text).Select(id => (long)id).ToArray();
        }
        catch (TokenizerException e)
        {
            throw new CliRuntimeException($"{Path} could not tokenize the text: {e.Message}", e);
        }
    }

    /// <summary>The text of one token id.</summary>
    public string Piece(long id)
    {
        if (_addedTokens.TryGetValue(id, out var content)) return content;
        if (id < 0 || id > uint.MaxValue) return "";
        try
        {
            return _tokenizer.Decode(new[] { (uint)id });
        }
        catch (TokenizerException)
        {
            return "";
        }
    }

    /// <summary>How many preceding tokens give a token its context when decoding its piece.</summary>
    private const int Context = 8;

    /// <summary>The text of each token of a prompt: what decoding it after its (up to <see cref="Context"/>)
    /// predecessors adds; the token's own text where that is not a plain extension (e.g. a character split over
    /// byte tokens).</summary>
    public IReadOnlyList<string> Pieces(IReadOnlyList<long> ids)
    {
        var pieces = new string[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            if (_addedTokens.TryGetValue(ids[i], out var special))
            {
                pieces[i] = special;
                continue;
            }
            int start = Math.Max(0, i - Context);
            var before = Decode(ids, start, i);
            var after = Decode(ids, start, i + 1);
            pieces[i] = before is not null && after is not null && after.StartsWith(before, StringComparison.Ordinal) && after.Length > before.Length
                ? after[before.Length..]
                : Piece(ids[i]);
        }
        return pieces;
    }

    private string? Decode(IReadOnlyList<long> ids, int start, int end)
    {
        if (start == end) return "";
        var span = new uint[end - start];
        for (int i = start; i < end; i++)
        {
            if (ids[i] < 0 || ids[i] > uint.MaxValue) return null;
            span[i - start] = (uint)ids[i];
        }
        try
        {
            return _tokenizer.Decode(span);
        }
        catch (TokenizerException)
        {
            return null;
        }
    }

    private static Dictionary<long, string> ReadAddedTokens(string path)
    {
        var added = new Dictionary<long, string>();
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        if (document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("added_tokens", out var tokens) && tokens.ValueKind == JsonValueKind.Array)
            foreach (var token in tokens.EnumerateArray())
                if (token.ValueKind == JsonValueKind.Object
                    && token.TryGetProperty("id", out var id) && id.TryGetInt64(out var value)
                    && token.TryGetProperty("content", out var text) && text.ValueKind == JsonValueKind.String)
                    added[value] = text.GetString()!;
        return added;
    }

    public void Dispose() => _tokenizer.Dispose();
}
