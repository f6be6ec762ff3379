using System.IO;

namespace LrpGen.Cli;

/// <summary>Where a command writes: results to <see cref="Stdout"/>, progress, notices and errors to
/// <see cref="Stderr"/>; <see cref="Colour"/> says whether <see cref="Stdout"/> takes ANSI colours
/// (<see cref="TerminalColour"/>).</summary>
public sealed record CliConsole(TextWriter Stdout, TextWriter Stderr, bool Colour);
