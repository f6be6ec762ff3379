using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>An embedding lookup is a leaf: token relevance R = (e * g_e).sum(-1), accumulated in float32.</summary>
public static class EmbeddingRule
{
    public static Tensor TokenRelevance(Tensor embeddings, Tensor g)
    {
        var dtype = LrpPass.RelevanceType(embeddings.dtype);
        using var e32 = embeddings.to(dtype);
        using var g32 = g.to(dtype);
        using var r = e32.mul(g32);
        return r.sum(-1);
    }
}
