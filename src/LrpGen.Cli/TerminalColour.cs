using System;

namespace LrpGen.Cli;

/// <summary>Whether lrpgen writes ANSI colours: only to a terminal, and never when the NO_COLOR environment variable
/// is set to a non-empty value (https://no-color.org).</summary>
public static class TerminalColour
{
    public static bool Decide(bool outputRedirected, string? noColor) => !outputRedirected && string.IsNullOrEmpty(noColor);

    /// <summary>The decision for this process's standard output.</summary>
    public static bool ForConsole() => Decide(Console.IsOutputRedirected, Environment.GetEnvironmentVariable("NO_COLOR"));
}
