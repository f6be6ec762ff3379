using System;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 12: where memory is tight, lrpgen sets glibc's mmap threshold so that freed tensors leave the
/// resident set (the peak then follows the live tensors that MemoryBudget estimates). The tests run on Linux with
/// glibc, where mallopt takes it.</summary>
public class MallocTuningTests
{
    [Fact]
    public void GlibcTakesTheMmapThreshold()
    {
        Assert.True(OperatingSystem.IsLinux(), "the project's tests run on Linux");
        Assert.True(MallocTuning.ReturnLargeBlocks());
    }
}
