using System;

namespace LrpGen.Cli;

internal static class Program
{
    private static int Main(string[] args) => LrpGenCli.Run(args, Console.Out, Console.Error);
}
