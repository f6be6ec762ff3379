using static TorchSharp.torch;

namespace LrpGen.Models;

/// <summary>The additive value Hugging Face uses for masked attention scores: the most negative finite value of the
/// model's dtype (finfo.min; for float64, float32's, see below), so a masked score's softmax weight is exactly 0.</summary>
internal static class MaskValues
{
    public static double Min(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        // Not double.MinValue: decoders take the softmax in float32, where it is -inf, so a row with every key masked
        // (a left-padded prompt's padding rows) became NaN and 0 x NaN spread it to the real rows. float.MinValue is
        // as far below any score and stays finite in both types.
        ScalarType.Float64 => float.MinValue,
        _ => float.MinValue,
    };
}
