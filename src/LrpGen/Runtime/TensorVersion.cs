using System;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>LibTorch's version counter of a tensor: every in-place torch operation on it or on a view of it
/// (<c>add_</c>, <c>copy_</c>, indexed assignment) increments it. TorchSharp 0.107 has no managed API for it
/// (PyTorch's <c>Tensor._version</c>), and its native binding exports none, so this calls LibTorch's own exported
/// operator <c>at::_ops::_version::call(const at::Tensor&amp;)</c>; a TorchSharp tensor handle is an
/// <c>at::Tensor*</c>, which is how that reference is passed. Where the symbol cannot be found (another C++ ABI, a
/// LibTorch built differently) <see cref="Of"/> returns null and callers rely on their other checks.</summary>
internal static class TensorVersion
{
    private static readonly VersionFunction? Function = Resolve();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate long VersionFunction(IntPtr tensor);

    /// <summary>The tensor's version, or null where LibTorch's operator is not reachable.</summary>
    public static long? Of(Tensor tensor) => Function is null ? null : Function(tensor.Handle);

    private static VersionFunction? Resolve()
    {
        // The symbol's name under the Itanium C++ ABI (Linux, macOS) and under MSVC (Windows).
        string symbol = OperatingSystem.IsWindows()
            ? "?call@_version@_ops@at@@SA_JAEBVTensor@3@@Z"
            : "_ZN2at4_ops8_version4callERKNS_6TensorE";
        string[] libraries = OperatingSystem.IsWindows() ? new[] { "torch_cpu.dll" }
            : OperatingSystem.IsMacOS() ? new[] { "libtorch_cpu.dylib" }
            : new[] { "libtorch_cpu.so" };
        // TorchSharp has loaded LibTorch by the time a tensor exists; loading it by name again returns that copy.
        torch.zeros(1).Dispose();
        foreach (var library in libraries)
        {
            if (!NativeLibrary.TryLoad(library, typeof(TensorVersion).Assembly, null, out var handle)
                && !NativeLibrary.TryLoad(library, out handle))
                continue;
            if (NativeLibrary.TryGetExport(handle, symbol, out var address))
                return Marshal.GetDelegateForFunctionPointer<VersionFunction>(address);
        }
        return null;
    }
}
