using System;
using System.Collections.Generic;
using LrpGen.Models.Gguf;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Cli;

/// <summary>What <c>explain</c> needs of a tokenizer: ids of a prompt and the text of each token.</summary>
public interface IPromptTokenizer : IDisposable
{
    long[] Encode(string text);

    string Piece(long id);

    IReadOnlyList<string> Pieces(IReadOnlyList<long> ids);
}

/// <summary>A GGUF model's own vocabulary, tokenized by llama.cpp as the model's runtime (Ollama, LLamaSharp) does.</summary>
public sealed class GgufPromptTokenizer : IPromptTokenizer
{
    private readonly GgufTokenizer _tokenizer;

    private GgufPromptTokenizer(GgufTokenizer tokenizer) => _tokenizer = tokenizer;

    /// <summary>The tokenizer of a .gguf path or an ollama: reference (resolved to its blob).</summary>
    public static GgufPromptTokenizer Load(string model)
    {
        // A broken file or a missing Ollama model fails here as loading the model would (exit 1, one line).
        string path = CheckpointFolder.Open(model).WeightsPath;
        try
        {
            return new GgufPromptTokenizer(GgufTokenizer.Load(path));
        }
        catch (CheckpointException e)
        {
            throw new CliRuntimeException(e.Message, e);
        }
    }

    public long[] Encode(string text) => _tokenizer.Encode(text);

    public string Piece(long id) => _tokenizer.Piece(id);

    public IReadOnlyList<string> Pieces(IReadOnlyList<long> ids) => _tokenizer.Pieces(ids);

    public void Dispose() => _tokenizer.Dispose();
}
