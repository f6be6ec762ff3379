using System;

namespace LrpGen.Models.HuggingFace;

/// <summary>A Hugging Face checkpoint folder or safetensors file could not be read, or does not fit the model.
/// The message names the file and the tensor or config key involved, so the fix is obvious without a debugger.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string message, string? filePath = null, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file (or folder) the problem is in, where known.</summary>
    public string? FilePath { get; }
}
