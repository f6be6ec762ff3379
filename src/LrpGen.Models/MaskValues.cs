using static TorchSharp.torch;

namespace LrpGen.Models;

/// <summary>The additive value Hugging Face uses for masked attention scores: the most negative finite value of the
/// model's dtype (finfo.min), so a masked score's softmax weight is exactly 0.</summary>
internal static class MaskValues
{
    public static double Min(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };
}
