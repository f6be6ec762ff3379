using static TorchSharp.torch;

namespace LrpGen.Models.Gguf;

/// <summary>The row permutation of q and k that the usual HF-to-GGUF conversion applies to the LLaMA family:
/// Hugging Face rotates each head's first half against its second half (rotate_half), llama.cpp rotates adjacent
/// pairs, so the conversion reorders each head's rows [0..d/2) and [d/2..d) into pairs (0, d/2), (1, d/2 + 1), ...
/// Rows are the first dimension (a weight [rows, in] or a bias [rows]).</summary>
public static class RopeRows
{
    /// <summary>Hugging Face order to GGUF order: (heads, 2, d/2, ...) with the middle two swapped.</summary>
    public static Tensor ToGguf(Tensor hf, int heads) => Swap(hf, heads, 2, hf.shape[0] / heads / 2);

    /// <summary>GGUF order back to Hugging Face's: (heads, d/2, 2, ...) with the middle two swapped.</summary>
    public static Tensor ToHuggingFace(Tensor gguf, int heads) => Swap(gguf, heads, gguf.shape[0] / heads / 2, 2);

    private static Tensor Swap(Tensor t, int heads, long a, long b)
    {
        var shape = t.shape;
        var split = new long[shape.Length + 2];
        split[0] = heads;
        split[1] = a;
        split[2] = b;
        for (int i = 1; i < shape.Length; i++) split[i + 2] = shape[i];
        using var view = t.reshape(split);
        using var swapped = view.transpose(1, 2);
        return swapped.reshape(shape);
    }
}
