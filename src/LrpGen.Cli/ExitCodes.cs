namespace LrpGen.Cli;

/// <summary>The exit codes of lrpgen.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Something failed while running: an unreadable checkpoint, a file that cannot be written, a native
    /// library that does not load, a CUDA device that is not there.</summary>
    public const int RuntimeError = 1;

    /// <summary>The command line is wrong: unknown option or value, malformed ids, missing model folder, a token id or
    /// target outside the vocabulary, --text without a tokenizer.</summary>
    public const int UsageError = 2;
}
