using System.IO;
using LrpGen.Cli;

namespace LrpGen.TestSupport;

/// <summary>Runs lrpgen in-process and captures what it prints.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>With colours, as on a terminal.</summary>
    public static CliRun Of(params string[] args) => Run(args, colour: true);

    /// <summary>Without colours, as when stdout is redirected or NO_COLOR is set.</summary>
    public static CliRun Plain(params string[] args) => Run(args, colour: false);

    private static CliRun Run(string[] args, bool colour)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = LrpGenCli.Run(args, stdout, stderr, colour);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
