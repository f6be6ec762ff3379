using System;
using System.IO;

namespace LrpGen.Cli;

/// <summary>The lrpgen tool, runnable in-process: parse the command line, dispatch, map every failure to an exit
/// code and a one-line message (never a stack trace).</summary>
public static class LrpGenCli
{
    /// <summary>Runs <c>lrpgen</c> with <paramref name="args"/>, writing results to <paramref name="stdout"/> and
    /// messages, progress and errors to <paramref name="stderr"/>. Returns the process exit code:
    /// <see cref="ExitCodes.Success"/>, <see cref="ExitCodes.RuntimeError"/> or <see cref="ExitCodes.UsageError"/>.
    /// Colours are on only when <paramref name="stdout"/> is this process's console and <see cref="TerminalColour"/>
    /// allows them.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        Run(args, stdout, stderr, colour: ReferenceEquals(stdout, Console.Out) && TerminalColour.ForConsole());

    /// <summary>The same, saying whether the heatmaps on <paramref name="stdout"/> use ANSI colours.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool colour)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        string command = "lrpgen";
        try
        {
            var commandLine = new LrpGenCommandLine(new CliConsole(stdout, stderr, colour));
            // No command at all: the help is the answer.
            var parse = commandLine.Parse(args.Length == 0 ? new[] { "--help" } : args);
            command = LrpGenCommandLine.PathOf(parse);
            if (parse.Errors.Count > 0 && !commandLine.IsHelpOrVersion(parse))
            {
                foreach (var error in parse.Errors)
                    stderr.WriteLine($"{command}: error: {ErrorMessages.FirstLine(error.Message)}");
                stderr.WriteLine(CommandFailures.HelpHint(command));
                return ExitCodes.UsageError;
            }
            return parse.Invoke(new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return CommandFailures.Report(e, command, stderr);
        }
    }
}
