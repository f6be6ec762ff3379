using System;
using System.Runtime.InteropServices;

namespace LrpGen.Cli;

/// <summary>Makes freed tensors leave the process. LibTorch allocates CPU tensors with glibc's malloc, whose mmap
/// threshold grows (up to 32 MiB) each time a large block is freed: from then on, blocks below it come from the heap,
/// and the fused attention's freed block temporaries (of growing sizes under a causal mask) stay in the resident set.
/// <c>lrpgen explain</c> on the golden LLaMA (2 blocks) at 4,096 tokens peaked at 824-924 MiB (VmHWM, varying
/// from run to run) instead of the 359 MiB it holds at most; on the benchmark's model (`--save-model`, 4 blocks,
/// hidden 512) at 4,000 tokens, 1,196 instead of 738 MiB. A fixed threshold of 64 KiB (the benchmark's memory
/// probes use the same) serves every larger block with mmap and returns it at free, so the peak follows the live
/// tensors that <see cref="MemoryBudget"/> estimates. The cost is page faults on fresh blocks: that 4,000-token run
/// took 31.8 instead of 20.7 s of CPU time (10.3 instead of 1.8 s of it system time), and glibc's hugetlb tunable or
/// a 1 MiB threshold did not make it cheaper (28.9 and 28.8 s). So the commands set it only where
/// <see cref="MemoryBudget.Check"/> says the bound is tight.</summary>
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
