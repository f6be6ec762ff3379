using LrpGen;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>The output rows of the causal LMs, written once for every family (the generator inlines these helpers into
/// each module's forward). A module's <c>rows</c> input is either [R], the flat positions b * T + t whose logits over
/// the whole vocabulary it returns ([R, vocab]), or [R, 1 + K], each flat position followed by K token ids: then it
/// returns only those K logits and, last, the row's log-sum-exp over the vocabulary ([R, K + 1], at least float32).
/// The second form is what explaining many rows in one backward needs
/// (<see cref="CausalLm.ExplainGeneration(long[], long[], ExplainRequest)"/>): seed weights [S, R, K + 1] instead of
/// [S, R, vocab], and a backward through the output layer over the named ids only.</summary>
[LrpHelper]
public static class ExplainedLogits
{
    /// <summary>The flat positions of rows [R] or [R, 1 + K]: [R].</summary>
    public static Tensor Positions(Tensor rows) => rows.dim() == 1 ? rows : rows.select(1, 0);

    /// <summary>The logits [R, K] of the ids named by rows [R, 1 + K], from the final hidden states x [R, hidden] and
    /// the output layer's weight [vocab, hidden] (bias-free, as every family's). One linear over the weight rows of all
    /// R x K ids, under the output layer's rule (a Linear's: the same relevance as the full layer gives those ids),
    /// then each row's own K: the widest gradient of the backward here is [S, R, R x K], never [S, R, vocab].</summary>
    public static Tensor OfIds(Tensor x, Tensor weight, Tensor rows)
    {
        long R = rows.shape[0], K = rows.shape[1] - 1;
        var every = nn.functional.linear(x, weight.index_select(0, rows.narrow(1, 1, K).flatten()));  // [R, R * K]
        // Row r's own ids are columns r * K .. r * K + K - 1 of its row: flat index r * (R * K + K) + k.
        var own = torch.arange(R, device: rows.device).mul(R * K + K).unsqueeze(1).add(torch.arange(K, device: rows.device)).flatten();
        return every.flatten().index_select(0, own).view(R, K);
    }

    /// <summary>The named logits [R, K] followed by the log-sum-exp of the full logits [R, vocab] (for probabilities;
    /// a constant, so no relevance reaches it): [R, K + 1], in float32 for half-precision models (the logits widened
    /// exactly), so that the log-sum-exp is not rounded to 8 or 11 bits: probabilities as precise as the logits give
    /// them.</summary>
    public static Tensor WithLogNormalizer(Tensor named, Tensor logits)
    {
        var wide = named.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        return torch.cat(new[] { named.to(wide), logits.detach().to(wide).logsumexp(1, keepdim: true) }, 1);
    }
}
