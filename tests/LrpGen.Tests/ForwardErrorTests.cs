using System;
using System.Runtime.InteropServices;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary><see cref="LrpErrors.ForwardFailed"/> on the errors LibTorch really raises for wrong inputs: one line
/// naming the module, each input's name, shape and dtype, and LibTorch's reason without its C++ frames.</summary>
public class ForwardErrorTests
{
    private static ExternalException FailingForward(Action forward) => Assert.ThrowsAny<ExternalException>(forward);

    [Fact]
    public void WrongWidthNamesTheInputAndKeepsTorchsReason()
    {
        var m = new GatedMlp(8, 16);
        using var x = torch.randn(2, 5, 7);
        var torchError = FailingForward(() => m.call(x).Dispose());
        // LibTorch's own message carries the C++ stack: that is what must not reach the user.
        Assert.Contains("frame #", torchError.Message);

        var error = LrpErrors.ForwardFailed(nameof(GatedMlp), new[] { "x" }, new Tensor?[] { x }, torchError);
        Assert.StartsWith("LrpForward of GatedMlp failed on its inputs x [2, 5, 7] float32: ", error.Message);
        Assert.Contains("cannot be multiplied (10x7 and 8x16)", error.Message);
        Assert.DoesNotContain("frame #", error.Message);
        Assert.DoesNotContain("Exception raised from", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Same(torchError, error.InnerException);
    }

    [Fact]
    public void WrongDtypeAndWrongMaskAreNamedWithEveryInput()
    {
        var m = new MaskedAttention(8, 2);
        using var x = torch.randn(2, 3, 8, ScalarType.Float64);
        using var mask = torch.zeros(2, 1, 3, 3);
        var dtypeError = FailingForward(() => m.call(x, mask).Dispose());
        var dtype = LrpErrors.ForwardFailed(nameof(MaskedAttention), new[] { "x", "mask" }, new Tensor?[] { x, mask }, dtypeError);
        Assert.StartsWith("LrpForward of MaskedAttention failed on its inputs x [2, 3, 8] float64, mask [2, 1, 3, 3] float32: ", dtype.Message);
        Assert.Contains("dtype", dtype.Message);
        Assert.DoesNotContain('\n', dtype.Message);

        using var x32 = torch.randn(2, 3, 8);
        using var badMask = torch.zeros(2, 1, 3, 4);
        var maskError = FailingForward(() => m.call(x32, badMask).Dispose());
        var shape = LrpErrors.ForwardFailed(nameof(MaskedAttention), new[] { "x", "mask" }, new Tensor?[] { x32, badMask }, maskError);
        Assert.Equal($"LrpForward of MaskedAttention failed on its inputs x [2, 3, 8] float32, mask [2, 1, 3, 4] float32: {LrpErrors.Reason(maskError.Message)}", shape.Message);
        Assert.Contains("must match the size of tensor b (4) at non-singleton dimension 3", shape.Message);
    }

    [Fact]
    public void ReasonKeepsEveryMeaningfulLineAndDropsTheStack()
    {
        const string message = "The size of tensor a (3) must match the size of tensor b (4)\n"
            + "at non-singleton dimension 3\n"
            + "Exception raised from infer_size_impl at /pytorch/aten/src/ATen/ExpandUtils.cpp:31 (most recent call first):\n"
            + "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9d (0x7f in libc10.so)\n"
            + "frame #1: at::infer_size_dimvector(c10::ArrayRef<long>, c10::ArrayRef<long>) + 0x1a (0x7f in libtorch_cpu.so)\n";
        Assert.Equal("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 3", LrpErrors.Reason(message));
        Assert.Equal("plain message", LrpErrors.Reason("plain message"));
    }

    [Fact]
    public void MissingAndDisposedInputsAreSaidSo()
    {
        var disposed = torch.zeros(2);
        disposed.Dispose();
        var error = LrpErrors.ForwardFailed("M", new[] { "a", "b" }, new Tensor?[] { null, disposed }, new ExternalException("bad"));
        Assert.Equal("LrpForward of M failed on its inputs a null, b (disposed): bad", error.Message);
    }

    /// <summary>The generated LrpForward itself reports a wrong input this way, with every tensor input named.</summary>
    [Fact]
    public void GeneratedLrpForwardReportsWrongInputsInOneLine()
    {
        var m = new MaskedAttention(8, 2);
        using var x = torch.randn(2, 3, 7);
        using var mask = torch.zeros(2, 1, 1, 3);
        var error = Assert.Throws<ArgumentException>(() => m.LrpForward(x, mask).Dispose());
        Assert.StartsWith("LrpForward of MaskedAttention failed on its inputs x [2, 3, 7] float32, mask [2, 1, 1, 3] float32: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.IsAssignableFrom<ExternalException>(error.InnerException);
    }
}
