using System;

namespace LrpGen.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        // Before LibTorch allocates: the memory bound of explain (MemoryBudget) assumes freed tensors are returned.
        MallocTuning.ReturnLargeBlocks();
        return LrpGenCli.Run(args, Console.Out, Console.Error);
    }
}
