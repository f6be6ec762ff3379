using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LrpGen.Generators.Ir;

/// <summary>Which inputs of an operation relevance flows into (masks, weights, indices and conditions never carry it).</summary>
internal enum RelevanceFlow { All, First, AllButFirst, FirstThree, None }

/// <summary>How an operation's output relates to gates (CP-LRP treats a gate factor of a product as a constant).</summary>
internal enum GateFlow
{
    /// <summary>The output is no gate.</summary>
    None,
    /// <summary>The output is a gate (softmax, element-wise non-linearities).</summary>
    Makes,
    /// <summary>The output is a gate when the first input is one (the op only moves or scales elements).</summary>
    Keeps,
}

/// <summary>A field a live operation keeps on its frame besides saved values: its name, C# type, whether the frame
/// disposes it, and the forward statement that fills it (null when the emitter's structural forward does).</summary>
internal sealed record FrameField(Func<Op, string> Name, Func<Op, string> Type, bool Dispose, Func<Op, IForwardSite, string>? Fill = null);

/// <summary>What the forward writer offers a table entry's <see cref="FrameField.Fill"/>.</summary>
internal interface IForwardSite
{
    string P { get; }
    /// <summary>The frame variable holding the op's fields.</summary>
    string Frame { get; }
    string ValueName(int value);
    string Arg(Op op, string name);
}

/// <summary>What the backward writer offers a table entry's runtime call.</summary>
internal interface IBackwardSite
{
    string P { get; }
    /// <summary>The accumulator of the op's output gradient.</summary>
    string G { get; }
    /// <summary>The frame variable holding the op's fields.</summary>
    string Frame { get; }
    string Arg(string name);
    /// <summary>The expression reading a value the tape kept.</summary>
    string Saved(int value);
    bool IsSaved(int value);
    /// <summary>Whether a value receives relevance (its gradient accumulator exists).</summary>
    bool Receives(int value);
    /// <summary>"true"/"false", or a run-time test where a value receives relevance only for some methods.</summary>
    string ReceivesExpr(int value);
    bool IsGate(int value);
    /// <summary>The statement adding a contribution to an input's accumulator ("" when the input receives none).</summary>
    string Add(int input, string contribution);
    string GradOf(int value);
    Op? Producer(int value);
    /// <summary>The frame variable holding another op's fields.</summary>
    string FrameOf(Op op);
}

/// <summary>Everything the generator knows about one kind of operation: the one place to add an op.</summary>
/// <param name="RuleName">The rule's name in the generated comment above each backward step.</param>
/// <param name="Backward">The runtime call(s) of the backward step, given the op's output gradient (non-null there).</param>
/// <param name="Docs">How docs/rules.md names the op ("" for forward-only constants); a test checks the page has it.</param>
internal sealed record OpEntry(OpKind Kind, string Docs, RelevanceFlow Relevance, GateFlow Gate, Func<Op, string> RuleName,
    Func<Op, IBackwardSite, IEnumerable<string>> Backward)
{
    /// <summary>The tensor values the backward reads (kept on the tape), given which values receive relevance.</summary>
    public Func<Op, Func<int, bool>, IEnumerable<int>> Saves { get; init; } = (_, _) => Enumerable.Empty<int>();
    /// <summary>For a saved value read only to compute one input's relevance: that input (the tape keeps the value
    /// only when the input receives relevance under the rules); null when the step always reads it.</summary>
    public Func<Op, int, int?> SavedFor { get; init; } = (_, _) => null;
    /// <summary>Frame fields besides saved values and non-stable arguments, in the order the frame declares them.</summary>
    public FrameField[] Fields { get; init; } = Array.Empty<FrameField>();
    /// <summary>Whether an argument feeds the forward only (not kept for the backward).</summary>
    public Func<OpArg, bool> ForwardOnlyArg { get; init; } = _ => false;
}

/// <summary>The op table: per <see cref="OpKind"/>, the inputs carrying relevance, how gates propagate, what the
/// backward saves, the rule's name and the runtime call. The lowering, <c>Plan</c> and the emitter read it.</summary>
internal static class OpTable
{
    private const string Rules = "global::LrpGen.Rules";
    private const string TensorType = "global::TorchSharp.torch.Tensor";

    // Built on first use: the entries read the shared fields declared below.
    private static Dictionary<OpKind, OpEntry>? _entries;

    private static Dictionary<OpKind, OpEntry> Entries => _entries ??= Build().ToDictionary(e => e.Kind);

    public static OpEntry Of(OpKind kind) => Entries[kind];

    /// <summary>Every kind has an entry (a test checks it).</summary>
    public static IEnumerable<OpEntry> All => Entries.Values;

    /// <summary>The inputs relevance flows into.</summary>
    public static IEnumerable<T> RelevanceInputs<T>(OpKind kind, IReadOnlyList<T> inputs) => Of(kind).Relevance switch
    {
        RelevanceFlow.None => Enumerable.Empty<T>(),
        RelevanceFlow.First => inputs.Take(1),
        RelevanceFlow.AllButFirst => inputs.Skip(1),
        RelevanceFlow.FirstThree => inputs.Take(3),
        _ => inputs,
    };

    /// <summary>torch / tensor functions that are element-wise non-linearities under the identity rule
    /// (<see cref="OpKind.Activation"/>), with the member of the runtime's <c>LrpGen.Rules.Activation</c> that computes
    /// their derivative for the gradient baseline. Adding one is a line here and a case in <c>ActivationRule.Derivative</c>.</summary>
    public static readonly IReadOnlyDictionary<string, string> IdentityFunctions = new Dictionary<string, string>
    {
        ["silu"] = "Silu",
        ["gelu"] = "Gelu",
        ["relu"] = "Relu",
        ["tanh"] = "Tanh",
        ["sigmoid"] = "Sigmoid",
        ["exp"] = "Exp",
        ["erf"] = "Erf",
    };

    public static bool MakesGate(OpKind kind) => Of(kind).Gate == GateFlow.Makes;

    public static bool KeepsGate(OpKind kind) => Of(kind).Gate == GateFlow.Keeps;

    private static string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    private static string B(bool b) => b ? "true" : "false";

    private static string ExactAdjoint(Op op) => "exact adjoint: " + op.Kind.ToString().ToLowerInvariant();

    /// <summary>A one-input structural op whose adjoint is one runtime call on the gradient.</summary>
    private static OpEntry Structural(OpKind kind, string docs, Func<Op, IBackwardSite, string> call, GateFlow gate = GateFlow.Keeps,
        RelevanceFlow relevance = RelevanceFlow.All) =>
        new(kind, docs, relevance, gate, ExactAdjoint, (op, s) => new[] { s.Add(op.Inputs[0], call(op, s)) });

    private static LayerRuleParams Layer(Op op) => (LayerRuleParams)op.Params;

    private static string LayerRuleName(Op op) => Layer(op).Gamma is { } gamma ? $"gamma {F(gamma)}" : $"epsilon {F(Layer(op).Epsilon)}";

    /// <summary>The layer rule of this pass, resolved by the context in the forward (an override may replace the
    /// compiled one), and the input and output kept when that rule reads them.</summary>
    private static FrameField[] LayerFields(bool atPoint) => new[]
    {
        new FrameField(op => $"r{op.Id}", _ => "global::LrpGen.LrpLayerRule?", false, (op, f) =>
            $"{f.Frame}.r{op.Id} = {f.P}ctx.LayerRule({(atPoint ? $"{f.Frame}.p{op.Id}" : "null")}, {F(Layer(op).Epsilon)}, {(Layer(op).Gamma is { } gamma ? F(gamma) : "null")}, {(atPoint ? f.Arg(op, "module") : "null")});"),
        new FrameField(op => $"x{op.Id}", _ => $"{TensorType}?", true, (op, f) =>
            $"if ({f.Frame}.r{op.Id}.KeepsInput) {f.Frame}.x{op.Id} = {f.ValueName(op.Inputs[0])}.alias();"),
        new FrameField(op => $"y{op.Id}", _ => $"{TensorType}?", true, (op, f) =>
            $"if ({f.Frame}.r{op.Id}.KeepsOutput) {f.Frame}.y{op.Id} = {f.ValueName(op.Output)}.alias();"),
    };

    private static readonly FrameField PointField = new(op => $"p{op.Id}", _ => "global::LrpGen.LrpPoint?", true);

    private static readonly FrameField ScaleField = new(op => $"s{op.Id}", _ => $"{TensorType}?", true);

    private static IEnumerable<string> ProductBackward(Op op, IBackwardSite s, string fn)
    {
        int a = op.Inputs[0], b = op.Inputs[1];
        string aRef = s.IsSaved(a) && s.Receives(b) ? s.Saved(a) : "null";
        string bRef = s.IsSaved(b) && s.Receives(a) ? s.Saved(b) : "null";
        yield return $"var ({s.P}ga, {s.P}gb) = {Rules}.ProductRule.{fn}({s.P}ctx, {s.G}, {aRef}, {bRef}, {s.Arg("aShape")}, {s.Arg("bShape")},";
        yield return $"    aOnPath: {s.ReceivesExpr(a)}, bOnPath: {s.ReceivesExpr(b)}, aIsGate: {B(s.IsGate(a))}, bIsGate: {B(s.IsGate(b))}, cpForced: {B(op.CpForced)});";
        yield return s.Receives(a) ? s.Add(a, $"{s.P}ga") : $"{s.P}ga?.Dispose();";
        yield return s.Receives(b) ? s.Add(b, $"{s.P}gb") : $"{s.P}gb?.Dispose();";
    }

    /// <summary>A product's operand is read for the other operand's relevance (a for g_b, b for g_a).</summary>
    private static int? OtherOperand(Op op, int value) =>
        op.Inputs[0] == op.Inputs[1] ? null : value == op.Inputs[0] ? op.Inputs[1] : op.Inputs[0];

    private static IEnumerable<string> LayerBackward(Op op, IBackwardSite s, string call)
    {
        string gx = s.P + "gx" + op.Id;
        yield return $"{TensorType}? {gx} = {call};";
        yield return $"{s.P}ctx.AtGradient({s.Frame}.p{op.Id}, ref {gx}); // latent relevance and seeds at \"{op.PointName}\" (input)";
        yield return s.Receives(op.Inputs[0]) ? s.Add(op.Inputs[0], gx) : $"{gx}?.Dispose();";
    }

    private static IEnumerable<OpEntry> Build()
    {
        yield return new(OpKind.Constant, "", RelevanceFlow.None, GateFlow.None, ExactAdjoint, (_, _) => Enumerable.Empty<string>());
        yield return new(OpKind.Detach, "`detach()`", RelevanceFlow.None, GateFlow.None, ExactAdjoint, (_, _) => Enumerable.Empty<string>());

        // ---------------------------------------------------------------- structural: exact adjoints
        yield return Structural(OpKind.Identity, "contiguous", (op, s) => $"{Rules}.Adjoint.Identity({s.G})");
        yield return Structural(OpKind.Reshape, "reshape", (op, s) => $"{Rules}.Adjoint.Reshape({s.G}, {s.Arg("inputShape")})", relevance: RelevanceFlow.First);
        yield return Structural(OpKind.Transpose, "transpose", (op, s) => $"{Rules}.Adjoint.Transpose({s.G}, {s.Arg("dim0")}, {s.Arg("dim1")})");
        yield return Structural(OpKind.Permute, "permute", (op, s) => $"{Rules}.Adjoint.Permute({s.G}, {s.Arg("dims")})");
        yield return Structural(OpKind.Expand, "expand", (op, s) => $"{Rules}.Adjoint.Expand({s.G}, {s.Arg("inputShape")})", relevance: RelevanceFlow.First);
        yield return Structural(OpKind.RepeatInterleave, "repeat_interleave", (op, s) => $"{Rules}.Adjoint.RepeatInterleave({s.G}, {s.Arg("repeats")}, {s.Arg("dim")}, {s.Arg("inputShape")})");
        yield return Structural(OpKind.IndexSelect, "`index_select`", (op, s) => $"{Rules}.Adjoint.IndexSelect({s.G}, {s.Arg("dim")}, {s.Saved(op.Inputs[1])}, {s.Arg("inputShape")})",
            gate: GateFlow.None, relevance: RelevanceFlow.First) with { Saves = (op, _) => new[] { op.Inputs[1] } };
        yield return Structural(OpKind.Narrow, "narrow", (op, s) => $"{Rules}.Adjoint.Narrow({s.G}, {s.Arg("dim")}, {s.Arg("start")}, {s.Arg("length")}, {s.Arg("inputShape")})");
        yield return Structural(OpKind.Index, "`[TensorIndex]`", (op, s) => $"{Rules}.Adjoint.Index({s.G}, {s.Arg("indices")}, {s.Arg("inputShape")})");
        yield return new(OpKind.Cat, "cat", RelevanceFlow.All, GateFlow.None, ExactAdjoint,
            (op, s) => op.Inputs.Select((input, i) => s.Add(input, $"{Rules}.Adjoint.CatPart({s.G}, {s.Arg("dim")}, {s.Arg("sizes")}, {i})")));
        yield return new(OpKind.Chunk, "chunk", RelevanceFlow.All, GateFlow.Keeps, ExactAdjoint,
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.Adjoint.Split({s.G}, {s.Arg("dim")}, {s.Frame}.d{op.Id}_sizes, {s.Arg("inputShape")})") })
        {
            Fields = new[] { new FrameField(op => $"d{op.Id}_sizes", _ => "long[]", false, (op, f) => $"{f.Frame}.d{op.Id}_sizes = {Rules}.Shapes.SizesAlong({f.Arg(op, "dim")}, {f.ValueName(op.Output)});") },
        };
        yield return new(OpKind.Element, "split", RelevanceFlow.All, GateFlow.Keeps, ExactAdjoint, (op, s) =>
        {
            int x = op.Inputs[0];
            var chunk = s.Producer(x);
            // The chunk's own frame field: its step may sit in another frame than this element's.
            string count = chunk is not null && chunk.Kind == OpKind.Chunk ? $"{s.FrameOf(chunk)}.d{chunk.Id}_sizes.Length" : "0";
            return new[] { $"{Rules}.Grad.AddAt(ref {s.GradOf(x)}, {s.Arg("index")}, {count}, {s.G});", $"{s.G} = null;" };
        });
        yield return Structural(OpKind.Sum, "sum", (op, s) => $"{Rules}.Adjoint.Sum({s.G}, {s.Arg("dims")}, {s.Arg("keepdim")}, {s.Arg("inputShape")})", gate: GateFlow.None);
        yield return Structural(OpKind.Mean, "mean", (op, s) => $"{Rules}.Adjoint.Mean({s.G}, {s.Arg("dims")}, {s.Arg("keepdim")}, {s.Arg("inputShape")})", gate: GateFlow.None);
        yield return Structural(OpKind.Scale, "scalar `*` `/`", (op, s) => $"{Rules}.Adjoint.Scale({s.G}, {s.Arg("factor")})");
        yield return Structural(OpKind.Negate, "negation", (op, s) => $"{Rules}.Adjoint.Negate({s.G})");
        yield return Structural(OpKind.MaskedFill, "masked_fill", (op, s) => $"{Rules}.Adjoint.MaskedFill({s.G}, {s.Saved(op.Inputs[1])})", relevance: RelevanceFlow.First) with { Saves = (op, _) => new[] { op.Inputs[1] } };
        yield return Structural(OpKind.ToDtype, "dtype/device conversion", (op, s) => $"{Rules}.Adjoint.ToLike({s.G}, {s.Arg("dtype")}, {s.Arg("device")})");
        yield return Structural(OpKind.Select, "`select`", (op, s) => $"{Rules}.SelectionAdjoint.Select({s.G}, {s.Arg("dim")}, {s.Arg("index")}, {s.Arg("inputShape")})");
        yield return Structural(OpKind.Triangle, "`tril`", (op, s) => $"{Rules}.SelectionAdjoint.Triangle({s.G}, upper: {B(((TriangleParams)op.Params).Upper)}, {s.Arg("diagonal")})");
        yield return new(OpKind.Selection, "`max`", RelevanceFlow.All, GateFlow.Keeps, ExactAdjoint,
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.SelectionAdjoint.Gathered({s.G}, {s.Frame}.s{op.Id}, {s.Arg("dim")}, {s.Arg("inputShape")})") })
        { Fields = new[] { ScaleField } };
        yield return new(OpKind.Where, "`where(condition, a, b)`", RelevanceFlow.AllButFirst, GateFlow.None, ExactAdjoint, (op, s) => new[]
        {
            s.Add(op.Inputs[1], $"{Rules}.SelectionAdjoint.WhereBranch({s.G}, {s.Saved(op.Inputs[0])}, {s.Arg("aShape")}, whereTrue: true)"),
            s.Add(op.Inputs[2], $"{Rules}.SelectionAdjoint.WhereBranch({s.G}, {s.Saved(op.Inputs[0])}, {s.Arg("bShape")}, whereTrue: false)"),
        })
        { Saves = (op, _) => new[] { op.Inputs[0] } };
        yield return new(OpKind.Stack, "`stack`", RelevanceFlow.All, GateFlow.None, ExactAdjoint,
            (op, s) => op.Inputs.Select((input, i) => s.Add(input, $"{Rules}.SelectionAdjoint.StackPart({s.G}, {s.Arg("dim")}, {i})")));
        yield return new(OpKind.AddSub, "`a + b`", RelevanceFlow.All, GateFlow.None, _ => "epsilon 0 (sum)", (op, s) => new[]
        {
            s.Add(op.Inputs[0], $"{Rules}.Adjoint.AddOperand({s.G}, {s.Arg("aShape")}, negate: false)"),
            s.Add(op.Inputs[1], $"{Rules}.Adjoint.AddOperand({s.G}, {s.Arg("bShape")}, negate: {B(((AddSubParams)op.Params).Subtract)})"),
        });

        // ---------------------------------------------------------------- products: uniform rule (CP-LRP on gates)
        yield return new(OpKind.Mul, "`a * b`", RelevanceFlow.All, GateFlow.None, _ => "uniform (product)", (op, s) => ProductBackward(op, s, "ElementwiseBackward"))
        {
            Saves = (op, receives) => ProductSaves(op, receives),
            SavedFor = OtherOperand,
        };
        yield return new(OpKind.Matmul, "`A @ B`", RelevanceFlow.All, GateFlow.None, _ => "uniform (matmul)", (op, s) => ProductBackward(op, s, "MatmulBackward"))
        {
            Saves = (op, receives) => ProductSaves(op, receives),
            SavedFor = OtherOperand,
        };
        yield return new(OpKind.Einsum, "`torch.einsum`", RelevanceFlow.All, GateFlow.None, op => op.Inputs.Count == 2 ? "uniform (einsum)" : "exact adjoint: einsum", (op, s) =>
        {
            int a = op.Inputs[0], b = op.Inputs.Count > 1 ? op.Inputs[1] : -1;
            return new[]
            {
                $"var ({s.P}ga, {s.P}gb) = {Rules}.EinsumRule.Backward({s.P}ctx, {s.G}, {s.Arg("equation")}, {s.Saved(a)}, {(b >= 0 ? s.Saved(b) : "null")},",
                $"    aOnPath: {s.ReceivesExpr(a)}, bOnPath: {(b >= 0 ? s.ReceivesExpr(b) : "false")}, aIsGate: {B(s.IsGate(a))}, bIsGate: {B(b >= 0 && s.IsGate(b))}, cpForced: {B(op.CpForced)});",
                s.Receives(a) ? s.Add(a, $"{s.P}ga") : $"{s.P}ga?.Dispose();",
                b >= 0 && s.Receives(b) ? s.Add(b, $"{s.P}gb") : $"{s.P}gb?.Dispose();",
            };
        })
        { Saves = (op, _) => op.Inputs };
        yield return new(OpKind.Div, "`a / b`", RelevanceFlow.All, GateFlow.None, _ => "division (constant denominator under [NormIdentity])", (op, s) =>
        {
            int a = op.Inputs[0], b = op.Inputs[1];
            var lines = new List<string> { s.Add(a, $"{Rules}.PointwiseAdjoint.DivNumerator({s.G}, {s.Saved(b)}, {s.Arg("aShape")})") };
            if (s.Receives(b))
                lines.Add($"if ({s.ReceivesExpr(b)}) {s.Add(b, $"{Rules}.PointwiseAdjoint.DivDenominator({s.G}, {s.Saved(a)}, {s.Saved(b)})")}");
            return lines;
        })
        {
            Saves = (op, _) => new[] { op.Inputs[0], op.Inputs[1] },
            // The numerator is read only for the denominator's relevance.
            SavedFor = (op, value) => value == op.Inputs[0] && value != op.Inputs[1] ? op.Inputs[1] : null,
        };

        yield return new(OpKind.Attention, "fused attention", RelevanceFlow.FirstThree, GateFlow.None,
            _ => "fused attention (blocks of query rows): uniform on q k^T and probabilities v (CP-LRP: constant probabilities), softmax rule", AttentionBackward)
        { Saves = (op, _) => op.Inputs };

        // ---------------------------------------------------------------- non-linearities
        yield return new(OpKind.Softmax, "`softmax`", RelevanceFlow.All, GateFlow.Makes, _ => "softmax: Taylor at x (plain gradient)",
            (op, s) => new[]
            {
                s.Add(op.Inputs[0], ((SoftmaxParams)op.Params).ConvertsBack
                    ? $"{Rules}.SoftmaxRule.Backward({s.G}, {s.Saved(op.Output)}, {s.Arg("dim")}, {s.Arg("inputType")})"
                    : $"{Rules}.SoftmaxRule.Backward({s.G}, {s.Saved(op.Output)}, {s.Arg("dim")})"),
            })
        { Saves = (op, _) => new[] { op.Output } };
        yield return new(OpKind.Activation, "GELU", RelevanceFlow.All, GateFlow.Makes, op => $"identity ({((ElementwiseParams)op.Params).Name})",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.ActivationRule.Backward({s.G}, {s.Frame}.s{op.Id})") })
        {
            Fields = new[] { ScaleField with { Fill = (op, f) => $"{f.Frame}.s{op.Id} = {Rules}.ActivationRule.Scale({f.P}ctx, {op.Args[0].Expr}, {f.ValueName(op.Inputs[0])}, {f.ValueName(op.Output)});" } },
            ForwardOnlyArg = _ => true,
        };
        yield return new(OpKind.CustomElementwise, "`[IdentityNonlinearity]`", RelevanceFlow.All, GateFlow.Makes, op => $"identity ({((ElementwiseParams)op.Params).Name})",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.ActivationRule.Backward({s.G}, {s.Frame}.s{op.Id})") })
        {
            Fields = new[] { ScaleField with { Fill = (op, f) => $"{f.Frame}.s{op.Id} = {Rules}.ActivationRule.Scale({f.P}ctx, {Rules}.Activation.Custom, {f.ValueName(op.Inputs[0])}, {f.ValueName(op.Output)}, {op.Args[0].Expr});" } },
            ForwardOnlyArg = _ => true,
        };
        yield return new(OpKind.Rsqrt, "rsqrt", RelevanceFlow.All, GateFlow.None, _ => "gradient only: constant under [NormIdentity]",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.PointwiseAdjoint.Rsqrt({s.G}, {s.Saved(op.Output)})") })
        { Saves = (op, _) => new[] { op.Output } };
        yield return new(OpKind.Sqrt, "sqrt", RelevanceFlow.All, GateFlow.None, _ => "gradient only: constant under [NormIdentity]",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.PointwiseAdjoint.Sqrt({s.G}, {s.Saved(op.Output)})") })
        { Saves = (op, _) => new[] { op.Output } };
        yield return new(OpKind.Pow, "pow", RelevanceFlow.All, GateFlow.None, _ => "gradient only: constant under [NormIdentity]",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.PointwiseAdjoint.Pow({s.G}, {s.Saved(op.Inputs[0])}, {s.Arg("exponent")})") })
        { Saves = (op, _) => new[] { op.Inputs[0] } };

        // ---------------------------------------------------------------- layers and modules
        yield return new(OpKind.Linear, "`Linear`", RelevanceFlow.All, GateFlow.None, LayerRuleName, (op, s) =>
        {
            string module = s.Arg("module");
            return LayerBackward(op, s,
                $"{Rules}.LinearRule.Backward({s.P}ctx, {s.G}, {s.Frame}.r{op.Id}, {module}.weight, {module}.bias, {s.Frame}.x{op.Id}, {s.Frame}.y{op.Id})");
        })
        { Fields = LayerFields(atPoint: true).Prepend(PointField).ToArray() };
        yield return new(OpKind.Conv2d, "`Conv2d`", RelevanceFlow.All, GateFlow.None, LayerRuleName, (op, s) => LayerBackward(op, s,
            $"{Rules}.ConvRule.Conv2dBackward({s.P}ctx, {s.G}, {s.Frame}.r{op.Id}, {s.Arg("module")}, {s.Arg("inputShape")}, {s.Frame}.x{op.Id}, {s.Frame}.y{op.Id})"))
        { Fields = LayerFields(atPoint: true).Prepend(PointField).ToArray() };
        yield return new(OpKind.LinearFunctional, "`nn.functional.linear`", RelevanceFlow.First, GateFlow.None, LayerRuleName, (op, s) => new[]
        {
            s.Add(op.Inputs[0], $"{Rules}.LinearRule.Backward({s.P}ctx, {s.G}, {s.Frame}.r{op.Id}, {s.Saved(op.Inputs[1])}, null, {s.Frame}.x{op.Id}, {s.Frame}.y{op.Id})"),
        })
        { Saves = (op, _) => new[] { op.Inputs[1] }, Fields = LayerFields(atPoint: false) };
        yield return new(OpKind.Sequential, "`Sequential`", RelevanceFlow.All, GateFlow.None, _ => "Sequential: each child's rule",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.SequentialRule.Backward({s.P}ctx, {s.Frame}.q{op.Id}, {s.G})") })
        { Fields = new[] { new FrameField(op => $"q{op.Id}", _ => $"{Rules}.SequentialRule.Tape?", true) } };
        yield return new(OpKind.LayerNorm, "`LayerNorm`", RelevanceFlow.First, GateFlow.None, _ => "norm identity (LayerNorm)", (op, s) =>
        {
            string weight = ((LayerNormParams)op.Params).Weight switch
            {
                LayerNormWeight.ModuleMember => s.Arg("weight"),
                LayerNormWeight.SecondInput => s.Saved(op.Inputs[1]),
                _ => "null",
            };
            return new[] { s.Add(op.Inputs[0], $"{Rules}.LayerNormRule.Backward({s.P}ctx, {s.G}, {s.Saved(op.Inputs[0])}, {weight}, {s.Arg("eps")}, {s.Arg("dims")})") };
        })
        {
            Saves = (op, _) => ((LayerNormParams)op.Params).Weight == LayerNormWeight.SecondInput ? new[] { op.Inputs[0], op.Inputs[1] } : new[] { op.Inputs[0] },
        };
        yield return new(OpKind.Embedding, "`Embedding`", RelevanceFlow.All, GateFlow.None, _ => "embedding: token relevance",
            (op, s) => new[] { s.Add(op.Inputs[0], $"{Rules}.EmbeddingRule.TokenRelevance({s.Saved(op.Output)}, {s.G})") })
        { Saves = (op, _) => new[] { op.Output } };
        yield return new(OpKind.Child, "`[LrpModule]` children", RelevanceFlow.All, GateFlow.None, _ => "child module's generated backward", ChildBackward)
        {
            Fields = new[]
            {
                new FrameField(op => $"c{op.Id}", op => $"{((ChildParams)op.Params).Type}.LrpTape?", true),
                new FrameField(op => ((ChildParams)op.Params).Recomputable ? $"k{op.Id}" : "", _ => $"{TensorType}[]?", true),
                PointField,
            },
        };
    }

    /// <summary>The fused attention's backward: q, k, v (k and v before any repeat of grouped heads), the mask.</summary>
    private static IEnumerable<string> AttentionBackward(Op op, IBackwardSite s)
    {
        var p = (AttentionParams)op.Params;
        int q = op.Inputs[0], k = op.Inputs[1], v = op.Inputs[2];
        string mask = p.HasMask ? s.Saved(op.Inputs[3]) : "null";
        yield return $"var ({s.P}gq, {s.P}gk, {s.P}gv) = {Rules}.BlockAttention.Backward({s.P}ctx, {s.G}, {s.Saved(q)}, {s.Saved(k)}, {s.Saved(v)}, {mask}, {s.Arg("spec")},";
        yield return $"    qOnPath: {s.ReceivesExpr(q)}, kOnPath: {s.ReceivesExpr(k)}, vOnPath: {s.ReceivesExpr(v)}, qIsGate: {B(s.IsGate(q))}, kIsGate: {B(s.IsGate(k))}, vIsGate: {B(s.IsGate(v))},";
        yield return $"    scoresCpForced: {B(p.ScoresCpForced)}, outputCpForced: {B(op.CpForced)});";
        yield return s.Receives(q) ? s.Add(q, $"{s.P}gq") : $"{s.P}gq?.Dispose();";
        yield return s.Receives(k) ? s.Add(k, $"{s.P}gk") : $"{s.P}gk?.Dispose();";
        yield return s.Receives(v) ? s.Add(v, $"{s.P}gv") : $"{s.P}gv?.Dispose();";
    }

    private static IEnumerable<int> ProductSaves(Op op, Func<int, bool> receives)
    {
        if (receives(op.Inputs[1])) yield return op.Inputs[0];
        if (receives(op.Inputs[0])) yield return op.Inputs[1];
    }

    private static IEnumerable<string> ChildBackward(Op op, IBackwardSite s)
    {
        var child = (ChildParams)op.Params;
        string f = s.Frame, module = s.Arg("module");
        yield return $"{s.P}ctx.Enter({f}.p{op.Id});";
        if (child.Recomputable)
        {
            string inputs = string.Join(", ", op.Inputs.Select((_, i) => $"{f}.k{op.Id}[{i}]"));
            yield return $"if ({f}.k{op.Id} is not null) {module}.LrpForwardCore({s.P}ctx, {f}.c{op.Id} = new {child.Type}.LrpTape(), {inputs}).Dispose(); // recompute the block";
        }
        yield return $"var {s.P}gs = {module}.LrpBackwardCore({s.P}ctx, {f}.c{op.Id}, {s.G});";
        if (child.Recomputable)
            yield return $"if ({f}.k{op.Id} is not null) {{ {f}.c{op.Id}!.Dispose(); {f}.c{op.Id} = null; }}";
        yield return $"{s.P}ctx.Exit();";
        for (int i = 0; i < op.Inputs.Count; i++)
        {
            int p = op.InputParamIndices[i];
            yield return s.Receives(op.Inputs[i]) ? s.Add(op.Inputs[i], $"{s.P}gs[{p}]") : $"{s.P}gs[{p}]?.Dispose();";
        }
    }
}
