using LrpGen;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Attention;

/// <summary>The attention pieces every model family shares (decoders, GPT-2, BERT and MiniLM, RoBERTa, DistilBERT,
/// ViT), written once: the generator inlines them into each module that calls them (<see cref="LrpHelperAttribute"/>),
/// so each operation keeps its own rule there (head reshapes and RoPE: exact adjoints; the softmax: AttnLRP's softmax
/// rule; the mask: a constant).</summary>
[LrpHelper]
public static class AttentionOps
{
    /// <summary>[B, T, heads * headDim] to [B, heads, T, headDim].</summary>
    public static Tensor SplitHeads(Tensor x, long heads, long headDim) =>
        x.view(x.shape[0], x.shape[1], heads, headDim).transpose(1, 2);

    /// <summary>[B, heads, T, headDim] to [B, T, heads * headDim].</summary>
    public static Tensor MergeHeads(Tensor x) => x.transpose(1, 2).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3]);

    /// <summary>RoPE as Hugging Face applies it: x cos + rotate_half(x) sin, with rotate_half(x) = [-x2, x1] over the
    /// two halves of the last dimension; cos and sin are constant tables.</summary>
    public static Tensor Rope(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[3] / 2;
        var rotated = torch.cat(new[] { -x.narrow(-1, half, half), x.narrow(-1, 0, half) }, -1);
        return x * cos + rotated * sin;
    }

    /// <summary>softmax(scores) over the keys, computed in <paramref name="softmaxType"/> and back in the scores'
    /// dtype. Decoders pass float32 (Hugging Face's eager attention upcasts); encoders and ViT pass the scores' own
    /// dtype, which is softmax(-1) exactly (as BERT's and torchvision's attention compute it).</summary>
    public static Tensor Softmax(Tensor scores, ScalarType softmaxType) =>
        scores.softmax(-1, softmaxType).to(scores.dtype);

    /// <summary>softmax(scores + mask) over the keys (the additive mask a constant), as <see cref="Softmax"/>.</summary>
    public static Tensor Probabilities(Tensor scores, Tensor mask, ScalarType softmaxType) =>
        Softmax(scores + mask, softmaxType);
}
