using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Gguf;

/// <summary>A GGUF file's own tokenizer, run by llama.cpp itself (LLamaSharp, the vocabulary only: no weights are
/// loaded): the ids are exactly those llama.cpp, Ollama and LLamaSharp feed the model, BOS included where the file
/// says so (tokenizer.ggml.add_bos_token). The application provides llama.cpp's native library (e.g. the
/// LLamaSharp.Backend.Cpu package), as it provides TorchSharp's backend.</summary>
public sealed class GgufTokenizer : IDisposable
{
    private static readonly object LogLock = new();
    private static bool _logSilenced;
    private readonly LLamaWeights _vocabulary;

    private GgufTokenizer(LLamaWeights vocabulary, string path)
    {
        _vocabulary = vocabulary;
        FilePath = path;
    }

    public string FilePath { get; }

    /// <summary>Loads the vocabulary of a GGUF file (a path, not an ollama: reference: resolve that first).</summary>
    public static GgufTokenizer Load(string ggufPath)
    {
        SilenceNativeLog();
        try
        {
            var weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true, GpuLayerCount = 0 });
            return new GgufTokenizer(weights, ggufPath);
        }
        catch (Exception e) when (e is LLama.Exceptions.RuntimeError or TypeInitializationException or DllNotFoundException)
        {
            throw new CheckpointException($"llama.cpp could not load the tokenizer of {ggufPath}: {FirstLine(e)}", ggufPath, e);
        }
    }

    /// <summary>llama.cpp writes its loading log to stderr by default; a command-line tool's stderr is for its own
    /// messages, so the log is dropped (once, before the native library is first used).</summary>
    public static void SilenceNativeLog()
    {
        lock (LogLock)
        {
            if (_logSilenced) return;
            // NativeApi's first use selects and loads the native library; setting the log callback before that
            // would look for "llama" on the default search path and fail.
            NativeApi.llama_max_devices();
            NativeLogConfig.llama_log_set((LLamaLogLevel _, string _) => { });
            _logSilenced = true;
        }
    }

    private static string FirstLine(Exception e)
    {
        while (e is TypeInitializationException && e.InnerException is not null) e = e.InnerException;
        return e.Message.Split('\n')[0].Trim();
    }

    /// <summary>Token ids of <paramref name="text"/> as llama.cpp tokenizes a prompt (special tokens such as BOS added
    /// as the file says; special-token text in the prompt is plain text).</summary>
    public long[] Encode(string text) =>
        _vocabulary.Tokenize(text, true, false, Encoding.UTF8).Select(t => (long)(int)t).ToArray();

    /// <summary>The bytes llama.cpp renders token <paramref name="id"/> as (special tokens by their text).</summary>
    private byte[] Bytes(long id)
    {
        if (id < 0 || id >= _vocabulary.Vocab.Count) return Array.Empty<byte>();
        var buffer = new byte[64];
        int size = (int)_vocabulary.NativeHandle.TokenToSpan((int)id, buffer, 0, true);
        if (size > buffer.Length)
        {
            buffer = new byte[size];
            size = (int)_vocabulary.NativeHandle.TokenToSpan((int)id, buffer, 0, true);
        }
        return buffer[..Math.Max(0, size)];
    }

    /// <summary>The text of one token id.</summary>
    public string Piece(long id) => Encoding.UTF8.GetString(Bytes(id));

    /// <summary>The text each token of a prompt adds to the decoded prompt: what the bytes up to it decode to beyond
    /// the bytes before it (so a character split over byte tokens shows at the token that completes it).</summary>
    public IReadOnlyList<string> Pieces(IReadOnlyList<long> ids)
    {
        var pieces = new string[ids.Count];
        var bytes = new List<byte>();
        string before = "";
        for (int i = 0; i < ids.Count; i++)
        {
            bytes.AddRange(Bytes(ids[i]));
            string after = DecodeComplete(bytes);
            pieces[i] = after.StartsWith(before, StringComparison.Ordinal) ? after[before.Length..] : Piece(ids[i]);
            before = after;
        }
        return pieces;
    }

    /// <summary>UTF-8 up to the last complete character (an incomplete one at the end waits for the next token).</summary>
    private static string DecodeComplete(List<byte> bytes)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        int end = span.Length;
        for (int back = 1; back <= Math.Min(3, span.Length); back++)
        {
            byte b = span[^back];
            if ((b & 0xC0) == 0x80) continue;                 // a continuation byte: look further back
            int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            if (need > back) end = span.Length - back;         // the last character is incomplete
            break;
        }
        return Encoding.UTF8.GetString(span[..end]);
    }

    public void Dispose() => _vocabulary.Dispose();
}
