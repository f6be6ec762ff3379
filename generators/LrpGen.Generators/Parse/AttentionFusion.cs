using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using LrpGen.Generators.Ir;

namespace LrpGen.Generators.Parse;

/// <summary>Finds attention written as separate operations, softmax(f(q @ k^T * scale) + mask) @ v (f an optional
/// [IdentityNonlinearity] helper such as a soft-cap, k and v optionally repeat_interleave'd over the heads, each
/// optional step possibly chosen by ?: on configuration), and replaces the chain by one <see cref="OpKind.Attention"/>
/// op whose runtime computes the probabilities a block of query rows at a time. A chain is fused only when nothing
/// else reads its intermediates (scores, probabilities); a softmax feeding a matmul that is not fused is reported
/// (LRP013, info) with the reason, never silently.</summary>
internal sealed class AttentionFusion
{
    private readonly Dictionary<int, ValueInfo> _values;
    private readonly string _prefix;
    /// <summary>How many places read each value (op inputs and reads, code, conditions, carried values, the return).</summary>
    private readonly Dictionary<int, int> _uses = new();
    /// <summary>Where each value is made: the statement and the list holding it.</summary>
    private readonly Dictionary<int, (Stmt Stmt, List<Stmt> List)> _producer = new();
    private readonly List<(Op Softmax, string Reason)> _kept = new();

    private AttentionFusion(IEnumerable<ValueInfo> values, string prefix)
    {
        _values = values.ToDictionary(v => v.Id);
        _prefix = prefix;
    }

    /// <summary>The body with every fusable chain replaced, and the softmaxes kept as full matrices with the reason.</summary>
    public static (Region Body, IReadOnlyList<(Op Softmax, string Reason)> Kept) Run(Region body, IEnumerable<ValueInfo> values, string prefix)
    {
        var fusion = new AttentionFusion(values, prefix);
        var mutable = ToMutable(body);
        fusion.Index(mutable);
        fusion.FuseIn(mutable);
        return (Freeze(mutable), fusion._kept);
    }

    // ------------------------------------------------------------ a mutable copy of the regions

    private sealed record MutableControl(ControlStmt Original, List<Stmt> Body, List<Stmt>? Else) : Stmt;

    private static List<Stmt> ToMutable(Region region) => region.Statements
        .Select(s => s is ControlStmt c ? new MutableControl(c, ToMutable(c.Body), c.Else is null ? null : ToMutable(c.Else)) : s)
        .ToList();

    private static Region Freeze(List<Stmt> list) => new(list
        .Select(s => s is MutableControl m ? m.Original with { Body = Freeze(m.Body), Else = m.Else is null ? null : Freeze(m.Else) } : s)
        .ToEquatable());

    private void Use(int value)
    {
        if (value < 0) return;
        _uses[value] = _uses.TryGetValue(value, out var n) ? n + 1 : 1;
    }

    private int Uses(int value) => _uses.TryGetValue(value, out var n) ? n : 0;

    private void Index(List<Stmt> list)
    {
        foreach (var s in list)
        {
            switch (s)
            {
                case OpStmt { Op: var op }:
                    foreach (var i in op.Inputs) Use(i);
                    foreach (var r in op.Reads) Use(r);
                    _producer[op.Output] = (s, list);
                    break;
                case CodeStmt c:
                    foreach (var u in c.Uses) Use(u);
                    break;
                case ReturnStmt r:
                    Use(r.Value);
                    break;
                case MutableControl m:
                    foreach (var u in m.Original.ConditionUses) Use(u);
                    foreach (var cv in m.Original.Carried)
                    {
                        Use(cv.OuterIn);
                        Use(cv.BodyExit);
                        Use(cv.ElseExit);
                        _producer[cv.OuterOut] = (s, list);
                    }
                    Index(m.Body);
                    if (m.Else is not null) Index(m.Else);
                    break;
            }
        }
    }

    private void FuseIn(List<Stmt> list)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is MutableControl m)
            {
                FuseIn(m.Body);
                if (m.Else is not null) FuseIn(m.Else);
            }
            else if (list[i] is OpStmt { Op: { Kind: OpKind.Matmul } final } && TryFuse(list, final) is { } fused)
            {
                list[i] = new OpStmt(fused.Op);
                list.RemoveAll(s => fused.Removed.Contains(s));
                i = list.IndexOf(list.First(s => s is OpStmt { Op: var o } && o.Id == fused.Op.Id));
            }
        }
    }

    /// <summary>The op producing a value in the same list, or null.</summary>
    private Op? ProducerIn(List<Stmt> list, int value) =>
        _producer.TryGetValue(value, out var p) && ReferenceEquals(p.List, list) && p.Stmt is OpStmt { Op: var op } ? op : null;

    /// <summary>An optional step written as cond ? step(x) : x (either side): the carried output's ?: statement, the
    /// step op inside it and the condition under which it runs.</summary>
    private (MutableControl Control, Op Step, string Condition)? OptionalStep(List<Stmt> list, int value, OpKind kind)
    {
        if (!_producer.TryGetValue(value, out var p) || !ReferenceEquals(p.List, list) || p.Stmt is not MutableControl m) return null;
        var c = m.Original;
        if (c.Kind != ControlKind.If || c.Carried.Count != 1 || m.Else is null || c.Carried[0].OuterIn >= 0) return null;
        if (m.Body.Count != 1 || m.Else.Count != 1 || m.Body[0] is not OpStmt { Op: var a } || m.Else[0] is not OpStmt { Op: var b }) return null;
        string condition = c.Header.StartsWith("if (", StringComparison.Ordinal) ? c.Header.Substring(3) : "(" + c.Header + ")";
        if (a.Kind == kind && b.Kind == OpKind.Identity && b.Inputs[0] == a.Inputs[0]) return (m, a, condition);
        if (b.Kind == kind && a.Kind == OpKind.Identity && a.Inputs[0] == b.Inputs[0]) return (m, b, $"!{condition}");
        return null;
    }

    private sealed record Fused(Op Op, HashSet<Stmt> Removed);

    private sealed class NotFused : Exception
    {
        public NotFused(string reason) : base(reason) { }
    }

    private Fused? TryFuse(List<Stmt> list, Op final)
    {
        var removed = new HashSet<Stmt>();
        var internalValues = new List<int>();
        var reads = new List<int>();
        Op? softmax = null;
        try
        {
            int probs = final.Inputs[0];
            var producer = ProducerIn(list, probs);
            Op? toDtype = null;
            if (producer is { Kind: OpKind.ToDtype })
            {
                toDtype = producer;
                producer = ProducerIn(list, producer.Inputs[0]);
            }
            if (producer is not { Kind: OpKind.Softmax }) return null;
            softmax = producer;
            if (final.Inputs[0] == final.Inputs[1]) throw new NotFused("the probabilities are multiplied by themselves");

            // softmax(...) [.to(dtype)] @ v: from here on it is attention, and a chain that cannot be fused is reported.
            void Take(Op op)
            {
                removed.Add(FindStmt(list, op));
                reads.AddRange(op.Reads);
            }
            var named = new List<(int Value, string What)>();
            void Internal(int value, string what)
            {
                named.Add((value, what));
                internalValues.Add(value);
            }
            if (toDtype is not null)
            {
                Internal(probs, "probabilities");
                Take(toDtype);
            }
            Internal(softmax.Output, "probabilities");
            Take(softmax);
            if (!IsLastDim(softmax.Args.FirstOrDefault(a => a.Name == "dim")?.Expr))
                throw new NotFused("the softmax is not over the last dimension");
            string softmaxType = ((SoftmaxParams)softmax.Params).ComputeType ?? "null";

            // + mask (a constant), or no mask.
            int biased = softmax.Inputs[0];
            int scores = biased, mask = -1;
            var add = ProducerIn(list, biased);
            string causal = "false";
            if (add is { Kind: OpKind.AddSub, Params: AddSubParams { Subtract: false } })
            {
                int a = add.Inputs[0], b = add.Inputs[1];
                if (!_values[b].OnPath) (scores, mask) = (a, b);
                else if (!_values[a].OnPath) (scores, mask) = (b, a);
                else throw new NotFused("the scores are added to a tensor that carries relevance");
                Internal(biased, "masked scores");
                Take(add);
                // scaled_dot_product_attention's bias: its mask and is_causal go to the fused op, the bias is never built.
                if (ProducerIn(list, mask) is { Kind: OpKind.Constant, Params: SdpaBiasParams sdpa } bias && Uses(mask) == 1)
                {
                    Internal(mask, "attention bias");
                    Take(bias);
                    mask = sdpa.Mask;
                    causal = sdpa.Causal;
                }
            }

            // An element-wise transform of the scores (soft-cap), maybe chosen by ?:.
            string transform = "null";
            int scaled = scores;
            var custom = ProducerIn(list, scores);
            if (custom is { Kind: OpKind.CustomElementwise })
            {
                Internal(scores, "scores");
                Take(custom);
                transform = $"({custom.Args[0].Expr})";
                scaled = custom.Inputs[0];
            }
            else if (OptionalStep(list, scores, OpKind.CustomElementwise) is { } step)
            {
                Internal(scores, "scores");
                removed.Add(step.Control);
                reads.AddRange(step.Control.Original.ConditionUses);
                reads.AddRange(step.Step.Reads);
                transform = $"({step.Condition} ? ({FuncType})({step.Step.Args[0].Expr}) : null)";
                scaled = step.Step.Inputs[0];
            }
            else if (ProducerIn(list, scores) is { Kind: OpKind.Activation })
                throw new NotFused("the scores pass an activation function; write it as an [IdentityNonlinearity] helper to fuse it");

            // * scale (or / divisor), or none.
            string scale = "1.0";
            int product = scaled;
            var scaleOp = ProducerIn(list, scaled);
            if (scaleOp is { Kind: OpKind.Scale })
            {
                Internal(scaled, "scores");
                Take(scaleOp);
                scale = scaleOp.Args.First(a => a.Name == "factor").Expr;
                product = scaleOp.Inputs[0];
            }

            // q @ k^T.
            var matmul = ProducerIn(list, product);
            if (matmul is not { Kind: OpKind.Matmul }) throw new NotFused("the softmax's input is not q @ k^T, scaled, soft-capped and masked");
            Internal(product, "scores");
            Take(matmul);
            int q = matmul.Inputs[0], keysT = matmul.Inputs[1];
            var transpose = ProducerIn(list, keysT);
            if (transpose is not { Kind: OpKind.Transpose } || !IsLastTwo(transpose))
                throw new NotFused("the keys are not transposed over their last two dimensions in q @ k^T");
            Internal(keysT, "transposed keys");
            Take(transpose);
            var (keys, keyRepeats) = Unrepeated(list, transpose.Inputs[0], removed, reads, internalValues);
            var (values, valueRepeats) = Unrepeated(list, final.Inputs[1], removed, reads, internalValues);

            // Nothing outside the chain may read its intermediates (the chain's own reads, like .to(scores.dtype), go with it).
            foreach (var (value, what) in named)
                if (Uses(value) != removed.Sum(st => UsesIn(st, value)) + UsesIn(new OpStmt(final), value))
                    throw new NotFused($"the {what} are read outside softmax(q k^T) v");
            var spec = $"new global::LrpGen.Rules.AttentionSpec({scale}, {transform}, {softmaxType}, {keyRepeats}, {valueRepeats}, {causal})";
            foreach (var expr in new[] { scale, transform, softmaxType, keyRepeats, valueRepeats, causal })
                if (ReadsAny(expr, internalValues) is { } name)
                    throw new NotFused($"'{name}', an intermediate of the attention, is read by '{expr}'");
            var inputs = mask >= 0 ? new[] { q, keys, values, mask } : new[] { q, keys, values };
            string N(int id) => _values[id].CName;
            string forward = $"global::LrpGen.Rules.BlockAttention.Forward({_prefix}ctx, {N(q)}, {N(keys)}, {N(values)}, {(mask >= 0 ? N(mask) : "null")}, {spec})";
            var allReads = reads.Concat(final.Reads).Where(r => !internalValues.Contains(r) && !inputs.Contains(r)).Distinct().OrderBy(r => r).ToEquatable();
            var fused = final with
            {
                Kind = OpKind.Attention,
                Inputs = inputs.ToEquatable(),
                Forward = forward,
                Args = new[] { new OpArg("spec", spec, "global::LrpGen.Rules.AttentionSpec", false) }.ToEquatable(),
                Params = new AttentionParams(ScoresCpForced: matmul.CpForced, HasMask: mask >= 0),
                Reads = allReads,
            };
            return new Fused(fused, removed);
        }
        catch (NotFused why)
        {
            _kept.Add((softmax!, why.Message));
            return null;
        }
    }

    /// <summary>How many times a statement (and what it holds) reads a value, counted as <see cref="Index"/> counts.</summary>
    private static int UsesIn(Stmt stmt, int value) => stmt switch
    {
        OpStmt { Op: var op } => op.Inputs.Count(i => i == value) + op.Reads.Count(r => r == value),
        MutableControl m => m.Original.ConditionUses.Count(u => u == value)
            + m.Original.Carried.Sum(cv => (cv.OuterIn == value ? 1 : 0) + (cv.BodyExit == value ? 1 : 0) + (cv.ElseExit == value ? 1 : 0))
            + m.Body.Sum(s => UsesIn(s, value)) + (m.Else?.Sum(s => UsesIn(s, value)) ?? 0),
        CodeStmt c => c.Uses.Count(u => u == value),
        ReturnStmt r => r.Value == value ? 1 : 0,
        _ => 0,
    };

    private const string FuncType = "global::System.Func<global::TorchSharp.torch.Tensor, global::TorchSharp.torch.Tensor>";

    private static Stmt FindStmt(List<Stmt> list, Op op) => list.First(s => s is OpStmt { Op: var o } && o.Id == op.Id);

    /// <summary>k (or v) before an optional repeat_interleave over the heads (dim 1 of [B, heads, T, D]), and the
    /// repeats expression ("1L" when there is none).</summary>
    private (int Value, string Repeats) Unrepeated(List<Stmt> list, int value, HashSet<Stmt> removed, List<int> reads, List<int> internalValues)
    {
        var repeat = ProducerIn(list, value);
        if (repeat is { Kind: OpKind.RepeatInterleave } && IsHeadDim(repeat) && Uses(value) == 1)
        {
            removed.Add(FindStmt(list, repeat));
            reads.AddRange(repeat.Reads);
            internalValues.Add(value);
            return (repeat.Inputs[0], Arg(repeat, "repeats"));
        }
        if (OptionalStep(list, value, OpKind.RepeatInterleave) is { } step && IsHeadDim(step.Step) && Uses(value) == 1)
        {
            removed.Add(step.Control);
            reads.AddRange(step.Control.Original.ConditionUses);
            reads.AddRange(step.Step.Reads);
            internalValues.Add(value);
            return (step.Step.Inputs[0], $"({step.Condition} ? {Arg(step.Step, "repeats")} : 1L)");
        }
        return (value, "1L");
    }

    private static string Arg(Op op, string name) => op.Args.First(a => a.Name == name).Expr;

    /// <summary>A literal dimension: "-1", "(long)(-1)", "-1L" read as -1; null when not a literal.</summary>
    private static long? Literal(string? expr)
    {
        if (expr is null) return null;
        var text = expr.Replace("(long)", "").Replace("(", "").Replace(")", "").Replace(" ", "").TrimEnd('L', 'l');
        return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    private static bool IsLastDim(string? expr) => Literal(expr) == -1;

    /// <summary>transpose(-2, -1), or (2, 3) of a 4-d [B, heads, T, D] tensor (the runtime checks the rank).</summary>
    private static bool IsLastTwo(Op transpose)
    {
        var (a, b) = (Literal(Arg(transpose, "dim0")), Literal(Arg(transpose, "dim1")));
        if (a is null || b is null) return false;
        var dims = new[] { a.Value, b.Value }.OrderBy(d => d).ToArray();
        return (dims[0] == -2 && dims[1] == -1) || (dims[0] == 2 && dims[1] == 3);
    }

    /// <summary>repeat_interleave over dim 1 (or -3) of [B, heads, T, D].</summary>
    private static bool IsHeadDim(Op repeat) => Literal(Arg(repeat, "dim")) is 1 or -3;

    /// <summary>The C# name of an intermediate value that an expression reads, if any.</summary>
    private string? ReadsAny(string expr, List<int> valueIds)
    {
        foreach (var id in valueIds)
        {
            string name = _values[id].CName;
            if (Regex.IsMatch(expr, $@"(?<![\w.]){Regex.Escape(name)}(?!\w)")) return name;
        }
        return null;
    }
}
