using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary>The TorchSharp backend this build was compiled against (MSBuild property TorchBackend) and the mapping of
/// --device and --dtype onto it.</summary>
public static class TorchBackend
{
#if LRPGEN_TORCH_CUDA
    public const string Package = "TorchSharp-cuda-linux";
    public const string CudaUnavailable = "CUDA is not available: this build uses the TorchSharp-cuda-linux backend, but no CUDA device or driver was found on this machine.";
#else
    public const string Package = "TorchSharp-cpu";
    public const string CudaUnavailable = "CUDA is not available: this build uses the TorchSharp-cpu backend; build with -p:TorchBackend=cuda on a CUDA machine";
#endif

    /// <summary>The device for --device. CUDA that is not there, whether the build has no CUDA backend or the machine
    /// no device, is a runtime failure (exit 1): the command line itself is right.</summary>
    public static Device Resolve(DeviceChoice choice)
    {
        if (choice == DeviceChoice.Cpu) return torch.CPU;
#if LRPGEN_TORCH_CUDA
        if (!torch.cuda.is_available()) throw new CliRuntimeException(CudaUnavailable);
        return torch.CUDA;
#else
        throw new CliRuntimeException(CudaUnavailable);
#endif
    }

    public static ScalarType ScalarTypeOf(DTypeChoice dtype) => dtype switch
    {
        DTypeChoice.BFloat16 => ScalarType.BFloat16,
        DTypeChoice.Float16 => ScalarType.Float16,
        _ => ScalarType.Float32,
    };
}
