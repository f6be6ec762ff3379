using System;
using System.Runtime.InteropServices;

namespace LrpGen.Cli;

/// <summary>Makes freed tensors leave the process. LibTorch allocates CPU tensors with glibc's malloc, whose mmap
/// threshold grows (up to 32 MiB) each time a large block is freed: from then on, blocks below it come from the heap,
/// and the blockwise attention's many freed block temporaries stay in the resident set between the blocks that are kept.
/// <c>lrpgen explain</c> on the golden LLaMA at 4,096 tokens peaked at 0.8-0.9 GiB (varying from run to run) instead of
/// the 0.36 GiB it holds at most, growing with the layers. A fixed threshold of 4 MiB serves every larger block with
/// mmap, so its memory goes back at free, and the peak follows the live tensors that <see cref="MemoryBudget"/>
/// estimates.</summary>
internal static class MallocTuning
{
    /// <summary>Blocks of at least this many bytes are mmapped (and unmapped when freed).</summary>
    public const int MmapThresholdBytes = 64 << 10;

    /// <summary>mallopt's parameter M_MMAP_THRESHOLD (glibc malloc.h).</summary>
    private const int MmapThresholdParameter = -3;

    /// <summary>Sets glibc's mmap threshold to <see cref="MmapThresholdBytes"/>. True when glibc took it; false off
    /// Linux or on a C library without mallopt (nothing changes there: the peak may then exceed the estimate).</summary>
    public static bool ReturnLargeBlocks()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return MallOpt(MmapThresholdParameter, MmapThresholdBytes) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);
}
