using System;
using System.Runtime.InteropServices;

namespace LrpGen.Cli;

/// <summary>Makes freed tensors leave the process. LibTorch allocates CPU tensors with glibc's malloc, whose mmap
/// threshold grows (up to 32 MiB) each time a large block is freed: from then on, blocks below it come from the heap,
/// and the fused attention's freed block temporaries stay in the resident set between the blocks that are kept.
/// <c>lrpgen explain</c> on the golden LLaMA (2 blocks) at 4,096 tokens peaked at 824-924 MiB (VmHWM, varying
/// from run to run; 173 MiB at 16 tokens) instead of the 359 MiB it holds at most. A fixed threshold serves every
/// larger block with mmap and returns it at free; at 4 MiB the 4,095-token run still peaked at 980 MiB (its block
/// temporaries, 4 heads x 64 rows x 4,095 keys of float32, are just below it), at 64 KiB (the threshold of the
/// benchmark's memory probes) both peak at 359 MiB. On the benchmark's model (`--save-model`, 4 blocks, hidden 512)
/// at 4,096 tokens: 735 instead of 1,337 MiB. The cost is page faults on fresh blocks: CPU time (user + system)
/// 28.3 instead of 24.7 s at 2,048 tokens, 78.4 instead of 48.1 s at 4,096, most of it system time (before the causal
/// key ranges; after them 59.6 s with it at 4,096). A guess, not tried: without it the heap would keep little if the
/// fused attention's backward kept no allocation alive across its blocks (it allocates new key/value gradient sums
/// per block, between the temporaries).</summary>
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
