using System;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>What one fused attention computes besides q, k, v and the mask: o = softmax(f(q k^T * Scale) + mask) v,
/// f an optional element-wise transform of the scores (Gemma 2's soft-cap) under the identity rule, the softmax in
/// <see cref="SoftmaxType"/> (null: the scores' dtype) and cast to v's dtype; k and v hold heads / KeyRepeats and
/// heads / ValueRepeats heads, each used by that many consecutive query heads (repeat_interleave on the heads, GQA).
/// A boolean mask keeps its true positions (scaled_dot_product_attention); <see cref="Causal"/> masks the future.</summary>
public sealed record AttentionSpec(double Scale, Func<Tensor, Tensor>? Transform, ScalarType? SoftmaxType, long KeyRepeats, long ValueRepeats, bool Causal);

/// <summary>Attention whose probabilities never exist at full size: the forward keeps q, k and v (k and v before the
/// repeat of grouped heads) and computes one block of query rows at a time; the backward recomputes each block's
/// scores and probabilities and applies the rules the separate operations would (uniform rule on both products or
/// CP-LRP's constant weights, the softmax rule, the identity rule on the transform, the plain gradient), folding the
/// scalar factors into the [.., T, D] results. Dimensions count from the end: a gradient may carry extra leading
/// dimensions (several seeds) that the saved tensors broadcast against.</summary>
public static class BlockAttention
{
    /// <summary>How many [rows, keys] tensors a backward block holds at once (scores, probabilities, their gradient, a
    /// product): the block size divides the memory budget by this many rows' worth.</summary>
    private const int BlockTemporaries = 4;

    public static Tensor Forward(LrpContext ctx, Tensor q, Tensor k, Tensor v, Tensor? mask, AttentionSpec spec)
    {
        Check(q, k, v, spec);
        long rows = q.shape[^2];
        long rowsPerBlock = RowsPerBlock(ctx, q, k, 1);
        if (rowsPerBlock >= rows) return ForwardBlock(q, k, v, mask, spec, 0, rows);
        var shape = (long[])q.shape.Clone();
        shape[^1] = v.shape[^1];
        var output = empty(shape, v.dtype, v.device);
        for (long start = 0; start < rows; start += rowsPerBlock)
        {
            long count = Math.Min(rowsPerBlock, rows - start);
            using var block = ForwardBlock(q, k, v, mask, spec, start, count);
            using var target = output.narrow(-2, start, count);
            target.copy_(block);
        }
        return output;
    }

    /// <summary>The gradients of q, k and v (null for an operand that receives no relevance).</summary>
    public static (Tensor? Q, Tensor? K, Tensor? V) Backward(LrpContext ctx, Tensor g, Tensor q, Tensor k, Tensor v, Tensor? mask,
        AttentionSpec spec, bool qOnPath, bool kOnPath, bool vOnPath, bool qIsGate, bool kIsGate, bool vIsGate, bool scoresCpForced, bool outputCpForced)
    {
        // The two products' shares, as ProductRule gives them: probabilities @ v (the probabilities are a gate), q @ k^T.
        var (fp, fv) = ProductRule.Shares(ctx, qOnPath || kOnPath, vOnPath, aIsGate: true, bIsGate: vIsGate, outputCpForced);
        var (fq, fk) = ProductRule.Shares(ctx, qOnPath, kOnPath, qIsGate, kIsGate, scoresCpForced);
        if (fp == 0) fq = fk = 0;
        if (fq == 0 && fk == 0 && fv == 0) return (null, null, null);
        long rows = q.shape[^2];
        long lead = g.dim() - q.dim();
        if (lead < 0) throw new ArgumentException($"LrpGen: the attention output's gradient has rank {g.dim()}, below the queries' rank {q.dim()}.");
        long leadCount = 1;
        for (int i = 0; i < lead; i++) leadCount *= g.shape[i];
        long rowsPerBlock = RowsPerBlock(ctx, q, k, leadCount);
        Tensor? gq = null, gk = null, gv = null;
        if (fq != 0)
        {
            var shape = (long[])g.shape.Clone();
            shape[^1] = q.shape[^1];
            gq = empty(shape, g.dtype, g.device);
        }
        try
        {
            for (long start = 0; start < rows; start += rowsPerBlock)
                BackwardBlock(ctx, g, q, k, v, mask, spec, start, Math.Min(rowsPerBlock, rows - start), fq != 0, fk != 0, fv != 0, gq, ref gk, ref gv);
            // Scalar factors (the shares, the score scale) applied once, to the [.., T, D] results.
            gq?.mul_(fq * fp * spec.Scale);
            gk?.mul_(fk * fp * spec.Scale);
            if (fv != 1) gv?.mul_(fv);
            return (gq, gk, gv);
        }
        catch
        {
            gq?.Dispose();
            gk?.Dispose();
            gv?.Dispose();
            throw;
        }
    }

    /// <summary>Query rows per block: the budget (<see cref="LrpOptions.AttentionBlockBytes"/>) over the bytes of the
    /// block's temporaries per row (heads x keys elements, times the leading dimensions of the gradient).</summary>
    private static long RowsPerBlock(LrpContext ctx, Tensor q, Tensor k, long leadCount)
    {
        long perRow = leadCount * k.shape[^2] * BlockTemporaries * Math.Max(4, q.ElementSize);
        for (int i = 0; i < q.dim() - 2; i++) perRow *= q.shape[i];
        return Math.Max(1, ctx.AttentionBlockBytes / Math.Max(1, perRow));
    }

    private static void Check(Tensor q, Tensor k, Tensor v, AttentionSpec spec)
    {
        if (q.dim() < 2 || k.dim() < 2 || v.dim() < 2)
            throw new ArgumentException("LrpGen: attention needs queries, keys and values of rank 2 or more ([.., tokens, features]).");
        if (spec.KeyRepeats < 1 || spec.ValueRepeats < 1)
            throw new ArgumentException($"LrpGen: repeat_interleave of the key/value heads by {spec.KeyRepeats}/{spec.ValueRepeats}: repeats must be at least 1.");
        if ((spec.KeyRepeats > 1 || spec.ValueRepeats > 1) && q.dim() < 3)
            throw new ArgumentException("LrpGen: grouped key/value heads need queries of rank 3 or more ([.., heads, tokens, features]).");
    }

    /// <summary>Rows [start, start + count) of the scores after the scale and the transform, before the mask: s, and
    /// the transform's input x when there is one (the identity rule's scale reads both).</summary>
    private static (Tensor Scores, Tensor? Input) Scores(Tensor q, Tensor k, AttentionSpec spec, long start, long count)
    {
        using var qBlock = q.narrow(-2, start, count);
        using var grouped = Grouped(qBlock, spec.KeyRepeats);
        using var keysT = k.transpose(-2, -1);
        using var product = grouped.matmul(keysT);
        var scores = Ungrouped(product, spec.KeyRepeats, count);
        scores.mul_(spec.Scale);
        if (spec.Transform is null) return (scores, null);
        // The user's function may leave temporaries: they go with the scope.
        using var scope = NewDisposeScope();
        var transformed = spec.Transform(scores).MoveToOuterDisposeScope();
        return (transformed, scores);
    }

    /// <summary>softmax(s + mask) in the spec's dtype for rows [start, start + count).</summary>
    private static Tensor Probabilities(Tensor scores, Tensor? mask, AttentionSpec spec, long start, long count)
    {
        using var biased = Biased(scores, mask, spec.Causal, start, count);
        return spec.SoftmaxType is { } type ? biased.softmax(-1, type) : biased.softmax(-1);
    }

    private static Tensor Biased(Tensor scores, Tensor? mask, bool causal, long start, long count)
    {
        Tensor biased;
        if (mask is null) biased = scores.alias();
        else
        {
            using var rows = MaskRows(mask, start, count);
            if (rows.dtype == ScalarType.Bool)
            {
                using var blocked = rows.logical_not();
                biased = scores.masked_fill(blocked, double.NegativeInfinity);
            }
            else biased = scores.add(rows);
        }
        if (causal)
        {
            long keys = scores.shape[^1];
            using var cols = arange(keys, ScalarType.Int64, scores.device);
            using var rowIndex = arange(start, start + count, 1, ScalarType.Int64, scores.device);
            using var column = rowIndex.unsqueeze(-1);
            using var future = cols.gt(column);
            biased.masked_fill_(future, double.NegativeInfinity);
        }
        return biased;
    }

    /// <summary>The mask's rows for a block (a mask broadcast along the rows keeps its one row).</summary>
    private static Tensor MaskRows(Tensor mask, long start, long count) =>
        mask.dim() < 2 || mask.shape[^2] == 1 ? mask.alias() : mask.narrow(-2, start, count);

    private static Tensor ForwardBlock(Tensor q, Tensor k, Tensor v, Tensor? mask, AttentionSpec spec, long start, long count)
    {
        var (scores, input) = Scores(q, k, spec, start, count);
        input?.Dispose();
        Tensor probs;
        using (scores) probs = Probabilities(scores, mask, spec, start, count);
        using var p = probs;
        using var typed = ToType(p, v.dtype);
        using var grouped = Grouped(typed, spec.ValueRepeats);
        using var product = grouped.matmul(v);
        return Ungrouped(product, spec.ValueRepeats, count);
    }

    private static void BackwardBlock(LrpContext ctx, Tensor g, Tensor q, Tensor k, Tensor v, Tensor? mask, AttentionSpec spec,
        long start, long count, bool forQ, bool forK, bool forV, Tensor? gq, ref Tensor? gk, ref Tensor? gv)
    {
        var (scores, input) = Scores(q, k, spec, start, count);
        Tensor? transformScale = null;
        Tensor probs32;
        try
        {
            if (input is not null && (forQ || forK))
                transformScale = ActivationRule.Scale(ctx, Activation.Custom, input, scores, spec.Transform);
            input?.Dispose();
            probs32 = Probabilities(scores, mask, spec, start, count);
        }
        catch
        {
            transformScale?.Dispose();
            throw;
        }
        finally
        {
            scores.Dispose();
        }
        using var scale = transformScale;
        using var p32 = probs32;
        using var gBlock = g.narrow(-2, start, count);
        using var probs = ToType(p32, v.dtype);
        if (forV)
        {
            // g_v = p^T g (share applied by the caller), grouped heads summed by the grouped product.
            using var grouped = Grouped(probs, spec.ValueRepeats);
            using var gGrouped = Grouped(gBlock, spec.ValueRepeats);
            using var groupedT = grouped.transpose(-2, -1);
            var part = groupedT.matmul(gGrouped);
            Grad.Add(ref gv, part);
        }
        if (!forQ && !forK) return;
        Tensor gScores;
        {
            // g_p = g v^T; softmax rule g_b = p (g_p - sum(p g_p)) in the softmax's dtype, back to the scores' dtype.
            using var gGrouped = Grouped(gBlock, spec.ValueRepeats);
            using var valuesT = v.transpose(-2, -1);
            using var product = gGrouped.matmul(valuesT);
            using var gProbs = Ungrouped(product, spec.ValueRepeats, count);
            using var gTyped = ToType(gProbs, p32.dtype);
            var gBiased = p32.mul(gTyped);
            using (var total = gBiased.sum(-1, keepdim: true))
                gBiased.addcmul_(p32, total, -1);
            gScores = ToType(gBiased, q.dtype);
            if (!ReferenceEquals(gScores, gBiased)) gBiased.Dispose();
            if (scale is not null) gScores.mul_(scale);
        }
        using (gScores)
        {
            using var gGrouped = Grouped(gScores, spec.KeyRepeats);
            if (forQ)
            {
                using var part = gGrouped.matmul(k);
                using var ungrouped = Ungrouped(part, spec.KeyRepeats, count);
                using var target = gq!.narrow(-2, start, count);
                target.copy_(ungrouped);
            }
            if (forK)
            {
                using var qBlock = q.narrow(-2, start, count);
                using var qGrouped = Grouped(qBlock, spec.KeyRepeats);
                using var gT = gGrouped.transpose(-2, -1);
                Grad.Add(ref gk, gT.matmul(qGrouped));
            }
        }
    }

    /// <summary>The tensor itself (a new handle) in its dtype, else a converted copy.</summary>
    private static Tensor ToType(Tensor x, ScalarType type) => x.dtype == type ? x.alias() : x.to(type);

    /// <summary>[.., heads, rows, X] to [.., heads / repeats, repeats * rows, X]: each key/value head's query heads as
    /// one run of rows, so a product with the unrepeated keys or values computes every group at once.</summary>
    private static Tensor Grouped(Tensor x, long repeats)
    {
        if (repeats == 1) return x.alias();
        var s = x.shape;
        var shape = new long[s.Length];
        Array.Copy(s, shape, s.Length - 3);
        shape[^3] = s[^3] / repeats;
        shape[^2] = repeats * s[^2];
        shape[^1] = s[^1];
        return x.reshape(shape);
    }

    /// <summary>The inverse of <see cref="Grouped"/>: [.., kvHeads, repeats * rows, X] to [.., heads, rows, X].</summary>
    private static Tensor Ungrouped(Tensor x, long repeats, long rows)
    {
        if (repeats == 1) return x.alias();
        var s = x.shape;
        var shape = new long[s.Length + 1];
        Array.Copy(s, shape, s.Length - 2);
        shape[^4] = s[^3];
        shape[^3] = repeats;
        shape[^2] = rows;
        shape[^1] = s[^1];
        using var split = x.view(shape);
        return split.flatten(-4, -3);
    }
}
