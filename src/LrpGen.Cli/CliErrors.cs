using System;

namespace LrpGen.Cli;

/// <summary>A wrong argument found after parsing (e.g. a target outside the model's vocabulary): exit code 2.</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message) : base(message) { }
}

/// <summary>A failure while running that the user can act on (exit code 1); the message says what and how.</summary>
public sealed class CliRuntimeException : Exception
{
    public CliRuntimeException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>The one place that turns a failed command into its exit code and message. Only the CLI's own checks of
/// the command line (<see cref="UsageException"/>) exit 2, with a pointer to the command's help; everything else
/// (a model that does not load, an <see cref="ArgumentException"/> from inside a model, a file that cannot be written)
/// exits 1. Either way one line, never a stack trace.</summary>
internal static class CommandFailures
{
    public static int Report(Exception e, string command, System.IO.TextWriter stderr)
    {
        stderr.WriteLine($"{command}: error: {ErrorMessages.Describe(e)}");
        if (e is not UsageException) return ExitCodes.RuntimeError;
        stderr.WriteLine(HelpHint(command));
        return ExitCodes.UsageError;
    }

    public static string HelpHint(string command) => $"Run '{command} --help' for its arguments and options.";
}

/// <summary>One-line descriptions of exceptions, with the inner cause where it says more (type initialisers, native
/// loading), never a stack trace.</summary>
internal static class ErrorMessages
{
    public static string FirstLine(string message)
    {
        var trimmed = message.Trim();
        int newline = trimmed.IndexOfAny(new[] { '\n', '\r' });
        return newline < 0 ? trimmed : trimmed[..newline].TrimEnd();
    }

    public static string Describe(Exception e)
    {
        var message = e.Message;
        var inner = e.InnerException;
        while (inner is not null && (e is TypeInitializationException || e is System.Reflection.TargetInvocationException))
        {
            message = inner.Message;
            e = inner;
            inner = inner.InnerException;
        }
        // Native errors (LibTorch) append C++ frames on further lines: the first line says what happened.
        message = FirstLine(message);
        if (e is UsageException or CliRuntimeException or ArgumentException or LrpGen.Models.HuggingFace.CheckpointException
            or System.IO.IOException or UnauthorizedAccessException)
            return message;
        return $"{message} ({e.GetType().Name})";
    }
}
