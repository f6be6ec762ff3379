using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Gguf;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>A SentencePiece-style vocabulary (llama.cpp's "llama" tokenizer) for the tiny test models: unk, BOS, EOS,
/// the 256 byte-fallback tokens, whole words, the prefixes SentencePiece's pair merges pass through on the way to them
/// ("▁t", "▁th"), letters, and filler pieces up to the model's vocabulary size.
/// llama.cpp needs one to load a model at all; the tokenizer tests derive their expected ids from it.</summary>
internal static class TestVocabulary
{
    public const int Unknown = 0, Bos = 1, Eos = 2, FirstByte = 3;
    public static readonly string[] Words = { "▁the", "▁cat", "▁sat", "▁on", "▁mat", "▁a", "▁dog", "▁ran", "▁capital", "▁of", "▁France", "▁is", "▁Paris" };
    public static readonly string[] Letters = "▁abcdefghijklmnopqrstuvwxyzACDFPST".Select(c => c.ToString()).ToArray();

    private static IEnumerable<string> Prefixes => Words.SelectMany(w => Enumerable.Range(2, w.Length - 2).Select(k => w[..k])).Distinct();

    /// <summary>The pieces in id order, padded with "▁w{i}" to <paramref name="size"/>.</summary>
    public static List<string> Pieces(int size)
    {
        var pieces = new List<string> { "<unk>", "<s>", "</s>" };
        pieces.AddRange(Enumerable.Range(0, 256).Select(b => $"<0x{b:X2}>"));
        pieces.AddRange(Words);
        pieces.AddRange(Letters);
        pieces.AddRange(Prefixes.Where(p => !pieces.Contains(p)));
        for (int i = 0; pieces.Count < size; i++) pieces.Add($"▁w{i}");
        return pieces;
    }

    public static int IdOf(string piece, int size) => Pieces(size).IndexOf(piece);

    /// <summary>tokenizer.ggml.* metadata of a vocabulary too small for the byte tokens (the golden models' 96): the
    /// control tokens and filler pieces, enough for llama.cpp to load the model and run given ids.</summary>
    public static IEnumerable<KeyValuePair<string, GgufValue>> SmallMetadata(int size) =>
        Metadata(new[] { "<unk>", "<s>", "</s>" }.Concat(Enumerable.Range(0, size - 3).Select(i => $"▁w{i}")).ToList());

    /// <summary>tokenizer.ggml.* metadata: whole words score higher than letters, so SentencePiece's merges build them.</summary>
    public static IEnumerable<KeyValuePair<string, GgufValue>> Metadata(int size) => Metadata(Pieces(size));

    private static IEnumerable<KeyValuePair<string, GgufValue>> Metadata(List<string> pieces)
    {
        var scores = pieces.Select((p, i) => i < FirstByte || p.StartsWith("<0x") ? 0f : Words.Contains(p) ? -1f - i * 1e-3f : p.Length > 1 ? -10f - i * 1e-3f : -100f - i * 1e-3f);
        // token types: 1 normal, 2 unknown, 3 control, 6 byte.
        var types = pieces.Select((p, i) => i == Unknown ? 2 : i < FirstByte ? 3 : p.StartsWith("<0x") ? 6 : 1);
        return new KeyValuePair<string, GgufValue>[]
        {
            new("tokenizer.ggml.model", GgufValue.String("llama")),
            new("tokenizer.ggml.tokens", GgufValue.Strings(pieces)),
            new("tokenizer.ggml.scores", GgufValue.Float32s(scores)),
            new("tokenizer.ggml.token_type", GgufValue.Int32s(types)),
            new("tokenizer.ggml.bos_token_id", GgufValue.UInt32(Bos)),
            new("tokenizer.ggml.eos_token_id", GgufValue.UInt32(Eos)),
            new("tokenizer.ggml.unknown_token_id", GgufValue.UInt32(Unknown)),
            new("tokenizer.ggml.add_bos_token", GgufValue.Bool(true)),
        };
    }
}
