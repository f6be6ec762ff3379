using System.IO;
using LrpGen.Models.Gguf;
using LrpGen.Models.HuggingFace;

namespace LrpGen.Cli;

/// <summary>What the text commands (explain, generate) check of a model argument before loading it, and the tokenizer
/// they use: a GGUF file's own vocabulary (through llama.cpp), else the folder's tokenizer.json.</summary>
internal static class ModelInput
{
    /// <summary>A GGUF reference, or an existing folder with a config.json; otherwise a <see cref="UsageException"/>.</summary>
    public static void CheckFolder(string folder)
    {
        bool gguf = GgufCheckpoint.IsGgufReference(folder);
        if (!gguf && !Directory.Exists(folder))
            throw new UsageException(File.Exists(folder)
                ? $"model folder '{folder}' is a file; give the folder that holds config.json and the weights."
                : $"model folder '{folder}' does not exist.");
        if (!gguf && !File.Exists(Path.Combine(folder, CheckpointFolder.ConfigFileName)))
            throw new UsageException($"'{folder}' is not a Hugging Face model folder: it has no {CheckpointFolder.ConfigFileName}.");
    }

    /// <summary>The model's tokenizer. With <paramref name="textGiven"/> it is required (none is a
    /// <see cref="UsageException"/>); with ids it only names the tokens, so a broken one is a warning and null.</summary>
    public static IPromptTokenizer? LoadTokenizer(string folder, bool textGiven, TextWriter stderr)
    {
        bool gguf = GgufCheckpoint.IsGgufReference(folder);
        if (textGiven)
        {
            if (gguf) return GgufPromptTokenizer.Load(folder);
            return HfTokenizer.TryLoad(folder) ?? throw new UsageException(
                $"--text needs a tokenizer, but '{folder}' has no {HfTokenizer.FileName}; give the prompt as token ids with --ids 5,17,3.");
        }
        try
        {
            return gguf ? GgufPromptTokenizer.Load(folder) : HfTokenizer.TryLoad(folder);
        }
        catch (CliRuntimeException e)
        {
            // The ids are given: the pieces are a nicety, so a broken tokenizer costs only the token text.
            stderr.WriteLine($"warning: {e.Message} Tokens are shown as ids.");
            return null;
        }
    }
}
