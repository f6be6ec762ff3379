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

    /// <summary>The most query rows per block where a mask or the causal flag can leave keys out
    /// (<see cref="AttentionKeyRange"/>): smaller blocks skip more of a causal mask's future (with blocks of R rows a
    /// causal pass computes about (T + R) / 2T of the dense products), while each block's products stay large enough
    /// to run at full speed.</summary>
    private const long MaxRowsPerMaskedBlock = 128;

    public static Tensor Forward(LrpContext ctx, Tensor q, Tensor k, Tensor v, Tensor? mask, AttentionSpec spec)
    {
        Check(q, k, v, spec);
        long rows = q.shape[^2], keys = k.shape[^2];
        long rowsPerBlock = RowsPerBlock(ctx, q, k, 1, mask, spec);
        if (rowsPerBlock >= rows)
        {
            var range = AttentionKeyRange.Of(mask, spec.Causal, 0, rows, keys);
            return ForwardBlock(q, k, v, mask, spec, 0, rows, range);
        }
        var shape = (long[])q.shape.Clone();
        shape[^1] = v.shape[^1];
        var output = empty(shape, v.dtype, v.device);
        try
        {
            for (long start = 0; start < rows; start += rowsPerBlock)
            {
                long count = Math.Min(rowsPerBlock, rows - start);
                var range = AttentionKeyRange.Of(mask, spec.Causal, start, count, keys);
                using var block = ForwardBlock(q, k, v, mask, spec, start, count, range);
                using var target = output.narrow(-2, start, count);
                target.copy_(block);
            }
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
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
        long rows = q.shape[^2], keys = k.shape[^2];
        long lead = g.dim() - q.dim();
        if (lead < 0) throw new ArgumentException($"LrpGen: the attention output's gradient has rank {g.dim()}, below the queries' rank {q.dim()}.");
        long leadCount = 1;
        for (int i = 0; i < lead; i++) leadCount *= g.shape[i];
        long rowsPerBlock = RowsPerBlock(ctx, q, k, leadCount, mask, spec);
        var products = new SeededProducts(lead == 1);
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
            {
                long count = Math.Min(rowsPerBlock, rows - start);
                var range = AttentionKeyRange.Of(mask, spec.Causal, start, count, keys);
                BackwardBlock(ctx, products, g, q, k, v, mask, spec, start, count, range, fq != 0, fk != 0, fv != 0, gq, ref gk, ref gv);
            }
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
    /// block's temporaries per row (heads x keys elements, times the leading dimensions of the gradient), at most
    /// <see cref="MaxRowsPerMaskedBlock"/> where keys can be left out.</summary>
    private static long RowsPerBlock(LrpContext ctx, Tensor q, Tensor k, long leadCount, Tensor? mask, AttentionSpec spec)
    {
        long perRow = leadCount * k.shape[^2] * BlockTemporaries * Math.Max(4, q.ElementSize);
        for (int i = 0; i < q.dim() - 2; i++) perRow *= q.shape[i];
        long rows = Math.Max(1, ctx.AttentionBlockBytes / Math.Max(1, perRow));
        return spec.Causal || mask is not null ? Math.Min(rows, MaxRowsPerMaskedBlock) : rows;
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

    /// <summary>Rows [start, start + count) of the scores over the block's keys after the scale and the transform,
    /// before the mask: s, and the transform's input x when there is one (the identity rule's scale reads both).</summary>
    private static (Tensor Scores, Tensor? Input) Scores(Tensor q, Tensor k, AttentionSpec spec, long start, long count, AttentionKeyRange range)
    {
        using var qBlock = q.narrow(-2, start, count);
        using var grouped = Grouped(qBlock, spec.KeyRepeats);
        using var keys = k.narrow(-2, range.Start, range.Count);
        using var product = ScaledProduct(grouped, keys, spec.Scale);
        var scores = Ungrouped(product, spec.KeyRepeats, count);
        if (spec.Transform is null) return (scores, null);
        // The user's function may leave temporaries: they go with the scope.
        using var scope = NewDisposeScope();
        var transformed = spec.Transform(scores).MoveToOuterDisposeScope();
        return (transformed, scores);
    }

    /// <summary>queries @ keys^T * scale. One batched GEMM applies the scale (beta = 0, alpha = scale: the same single
    /// rounding as a product followed by a multiplication) where the batch dimensions match and the scale is exact in
    /// float (the GEMM's alpha is a float); otherwise the product and an in-place multiplication.</summary>
    private static Tensor ScaledProduct(Tensor queries, Tensor keys, double scale)
    {
        var qs = queries.shape;
        bool sameBatch = qs.Length == keys.dim() && qs.Length >= 3;
        for (int i = 0; sameBatch && i < qs.Length - 2; i++) sameBatch = qs[i] == keys.shape[i];
        bool exactAlpha = queries.dtype != ScalarType.Float64 || (double)(float)scale == scale;
        if (!sameBatch || !exactAlpha)
        {
            using var keysT = keys.transpose(-2, -1);
            var product = queries.matmul(keysT);
            product.mul_(scale);
            return product;
        }
        long m = qs[^2], d = qs[^1], n = keys.shape[^2];
        using var q3 = queries.reshape(-1, m, d);
        using var k3 = keys.reshape(-1, n, d);
        using var k3T = k3.transpose(-2, -1);
        using var unused = empty(new long[] { 1, 1, 1 }, queries.dtype, queries.device);
        using var scores = q3.baddbmm(k3T, unused, beta: 0, alpha: (float)scale);
        var shape = (long[])qs.Clone();
        shape[^1] = n;
        return scores.view(shape);
    }

    /// <summary>softmax(s + mask) over the block's keys in the spec's dtype for rows [start, start + count); adds the
    /// mask into <paramref name="scores"/> in place where the dtypes allow (the caller's scores are spent).</summary>
    private static Tensor Probabilities(Tensor scores, Tensor? mask, AttentionSpec spec, long start, long count, AttentionKeyRange range)
    {
        using var biased = Biased(scores, mask, spec.Causal, start, count, range);
        return spec.SoftmaxType is { } type ? biased.softmax(-1, type) : biased.softmax(-1);
    }

    private static Tensor Biased(Tensor scores, Tensor? mask, bool causal, long start, long count, AttentionKeyRange range)
    {
        Tensor biased;
        if (mask is null) biased = scores.alias();
        else
        {
            using var rows = MaskBlock(mask, start, count, range);
            if (rows.dtype == ScalarType.Bool)
            {
                using var blocked = rows.logical_not();
                biased = scores.masked_fill_(blocked, double.NegativeInfinity).alias();
            }
            // In place only where the sum keeps the scores' dtype (a float32 mask on half-precision scores promotes).
            else if (rows.dtype == scores.dtype) biased = scores.add_(rows).alias();
            else biased = scores.add(rows);
        }
        if (causal)
        {
            using var future = AttentionKeyRange.Future(start, count, range.Start, range.Count, scores.device);
            biased.masked_fill_(future, double.NegativeInfinity);
        }
        return biased;
    }

    /// <summary>The mask's rows and keys for a block (a mask broadcast along the rows keeps its one row, along the keys
    /// its one column).</summary>
    private static Tensor MaskBlock(Tensor mask, long start, long count, AttentionKeyRange range)
    {
        using var rows = AttentionKeyRange.MaskRows(mask, start, count);
        return rows.shape[^1] == 1 ? rows.alias() : rows.narrow(-1, range.Start, range.Count);
    }

    private static Tensor ForwardBlock(Tensor q, Tensor k, Tensor v, Tensor? mask, AttentionSpec spec, long start, long count, AttentionKeyRange range)
    {
        var (scores, input) = Scores(q, k, spec, start, count, range);
        input?.Dispose();
        Tensor probs;
        using (scores) probs = Probabilities(scores, mask, spec, start, count, range);
        using var p = probs;
        using var typed = ToType(p, v.dtype);
        using var grouped = Grouped(typed, spec.ValueRepeats);
        using var values = v.narrow(-2, range.Start, range.Count);
        using var product = grouped.matmul(values);
        return Ungrouped(product, spec.ValueRepeats, count);
    }

    private static void BackwardBlock(LrpContext ctx, SeededProducts products, Tensor g, Tensor q, Tensor k, Tensor v, Tensor? mask,
        AttentionSpec spec, long start, long count, AttentionKeyRange range, bool forQ, bool forK, bool forV,
        Tensor? gq, ref Tensor? gk, ref Tensor? gv)
    {
        var (scores, input) = Scores(q, k, spec, start, count, range);
        Tensor? transformScale = null;
        Tensor probs32;
        try
        {
            if (input is not null && (forQ || forK))
                transformScale = ActivationRule.Scale(ctx, Activation.Custom, input, scores, spec.Transform);
            input?.Dispose();
            probs32 = Probabilities(scores, mask, spec, start, count, range);
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
        using var values = v.narrow(-2, range.Start, range.Count);
        if (forV)
        {
            // g_v = p^T g (share applied by the caller), grouped heads summed by the grouped product.
            using var grouped = Grouped(probs, spec.ValueRepeats);
            using var gGrouped = Grouped(gBlock, spec.ValueRepeats);
            using var groupedT = grouped.transpose(-2, -1);
            using var part = products.PlainTimesSeeded(groupedT, gGrouped);
            AddKeys(ref gv, part, range, v.shape[^2]);
        }
        if (!forQ && !forK) return;
        Tensor gScores;
        {
            // g_p = g v^T; softmax rule g_b = p (g_p - sum(p g_p)) in the softmax's dtype, back to the scores' dtype.
            using var gGrouped = Grouped(gBlock, spec.ValueRepeats);
            using var valuesT = values.transpose(-2, -1);
            using var product = products.SeededTimesPlain(gGrouped, valuesT);
            using var gProbs = Ungrouped(product, spec.ValueRepeats, count);
            var gBiased = gProbs.dtype == p32.dtype ? gProbs.mul_(p32).alias() : gProbs.to(p32.dtype).mul_(p32);
            using (var total = gBiased.sum(-1, keepdim: true))
                gBiased.addcmul_(p32, total, -1);
            gScores = ToType(gBiased, q.dtype);
            gBiased.Dispose();
            if (scale is not null) gScores.mul_(scale);
        }
        using (gScores)
        {
            using var gGrouped = Grouped(gScores, spec.KeyRepeats);
            if (forQ)
            {
                using var keys = k.narrow(-2, range.Start, range.Count);
                using var part = products.SeededTimesPlain(gGrouped, keys);
                using var ungrouped = Ungrouped(part, spec.KeyRepeats, count);
                using var target = gq!.narrow(-2, start, count);
                target.copy_(ungrouped);
            }
            if (forK)
            {
                using var qBlock = q.narrow(-2, start, count);
                using var qGrouped = Grouped(qBlock, spec.KeyRepeats);
                using var gT = gGrouped.transpose(-2, -1);
                using var part = products.SeededTimesPlain(gT, qGrouped);
                AddKeys(ref gk, part, range, k.shape[^2]);
            }
        }
    }

    /// <summary>Adds a block's gradient of the keys (or values) in <paramref name="range"/> into the gradient of all
    /// <paramref name="keys"/> keys, which starts at zero (or as the first part, when that covers every key).</summary>
    private static void AddKeys(ref Tensor? gradient, Tensor part, AttentionKeyRange range, long keys)
    {
        if (gradient is null)
        {
            if (range.IsAll(keys))
            {
                gradient = part.clone();
                return;
            }
            var shape = (long[])part.shape.Clone();
            shape[^2] = keys;
            gradient = zeros(shape, part.dtype, part.device);
        }
        using var target = gradient.narrow(-2, range.Start, range.Count);
        target.add_(part);
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

    /// <summary>Products of a gradient with a value of the forward. A gradient with one leading seed dimension (the
    /// layout of generated backwards, <see cref="Seeds"/>) goes through <see cref="Seeds.MatmulLeft"/> and
    /// <see cref="Seeds.MatmulRight"/>, which fold the seeds into the product instead of letting matmul copy the
    /// forward value (a block's probabilities) once per seed; other layouts broadcast as matmul does.</summary>
    private readonly record struct SeededProducts(bool OneSeedDimension)
    {
        public Tensor SeededTimesPlain(Tensor seeded, Tensor plain) =>
            OneSeedDimension ? Seeds.MatmulLeft(seeded, plain) : seeded.matmul(plain);

        public Tensor PlainTimesSeeded(Tensor plain, Tensor seeded) =>
            OneSeedDimension ? Seeds.MatmulRight(plain, seeded) : plain.matmul(seeded);
    }
}
