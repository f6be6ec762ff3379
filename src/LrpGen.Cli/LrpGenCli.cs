using System;
using System.CommandLine;
using System.IO;

namespace LrpGen.Cli;

/// <summary>The lrpgen tool, runnable in-process: parse the command line, dispatch, map every failure to an exit
/// code and a one-line message (never a stack trace).</summary>
public static class LrpGenCli
{
    /// <summary>Runs <c>lrpgen</c> with <paramref name="args"/>, writing results to <paramref name="stdout"/> and
    /// messages, progress and errors to <paramref name="stderr"/>. Returns the process exit code:
    /// <see cref="ExitCodes.Success"/>, <see cref="ExitCodes.RuntimeError"/> or <see cref="ExitCodes.UsageError"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, colour: ReferenceEquals(stdout, Console.Out) && TerminalColour.ForConsole());

    /// <summary>The same, saying whether the heatmaps on <paramref name="stdout"/> use ANSI colours.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool colour)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            var commandLine = new LrpGenCommandLine(
                options => new ExplainCommand(stdout, stderr, colour).Run(options),
                options => new SimilarityCommand(stdout, stderr, colour).Run(options),
                options => new ExplainImageCommand(stdout, stderr).Run(options),
                evaluate: options => new EvaluateCommand(stdout, stderr).Run(options));
            // No command at all: the help is the answer.
            var parse = commandLine.Parse(args.Length == 0 ? new[] { "--help" } : args);
            var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
            if (parse.Errors.Count == 0 || commandLine.IsHelpOrVersion(parse))
                return parse.Invoke(invocation);

            foreach (var error in parse.Errors)
                stderr.WriteLine($"lrpgen: error: {error.Message}");
            stderr.WriteLine();
            stderr.WriteLine(LrpGenCommandLine.Usage);
            stderr.WriteLine(LrpGenCommandLine.SimilarityUsage);
            stderr.WriteLine(LrpGenCommandLine.ExplainImageUsage);
            stderr.WriteLine(LrpGenCommandLine.EvaluateUsage);
            stderr.WriteLine("Run 'lrpgen explain --help' or 'lrpgen similarity --help' for the options.");
            return ExitCodes.UsageError;
        }
        catch (Exception e)
        {
            // Last line of defence: whatever escaped is reported as one line.
            stderr.WriteLine($"lrpgen: error: {ErrorMessages.Describe(e)}");
            return ExitCodes.RuntimeError;
        }
    }
}
