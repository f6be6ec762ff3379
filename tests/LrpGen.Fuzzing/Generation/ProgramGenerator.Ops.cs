using System;
using System.Collections.Generic;
using System.Linq;
using static LrpGen.Fuzzing.Generation.Code;

namespace LrpGen.Fuzzing.Generation;

/// <summary>The operations: each picks operands of fitting shapes from the values in scope and writes the
/// module's statement and the reference's statement (the same computation with the rule injected).</summary>
internal sealed partial class ProgramGenerator
{
    private const long MaxNumel = 384;

    private static readonly (string Form, int Weight)[] ActivationForms =
    {
        ("nn.functional.silu({0})", 2), ("nn.functional.gelu({0})", 2), ("nn.functional.relu({0})", 1), ("torch.tanh({0})", 1),
        ("torch.sigmoid({0})", 1), ("{0}.sigmoid()", 1), ("{0}.tanh()", 1), ("{0}.relu()", 1), ("torch.nn.functional.silu({0})", 1),
        ("nn.functional.tanh({0})", 1), ("nn.functional.sigmoid({0})", 1), ("torch.exp({0})", 1),
    };

    private static readonly string[] ActivationModules = { "SiLU", "GELU", "ReLU", "Tanh", "Sigmoid" };

    private enum Step
    {
        Activation, ActivationModule, Linear, Softmax, Scalar, Split, Merge, Unsqueeze, Squeeze, Transpose, Permute, Narrow,
        Index, Cat, Chunk, Reduce, Expand, RepeatInterleave, MaskedFill, ConstProduct, ConstNoRule, ToDtype, IdentityLike,
        Add, Mul, Matmul, Einsum, Attention, Sdpa, LayerNorm, LayerNormFunctional, RmsHelper, NormHelper, IdentityHelper,
        ScopedHelper, Child, Loop, If, Select, Stack, Where,
    }

    private static readonly (Step Step, int Weight, bool Preserves)[] Steps =
    {
        (Step.Activation, 10, true), (Step.ActivationModule, 4, true), (Step.Linear, 10, true), (Step.Softmax, 4, true),
        (Step.Scalar, 6, true), (Step.Split, 3, false), (Step.Merge, 3, false), (Step.Unsqueeze, 2, false), (Step.Squeeze, 2, false),
        (Step.Transpose, 4, false), (Step.Permute, 2, false), (Step.Narrow, 3, false), (Step.Index, 3, false), (Step.Cat, 3, false),
        (Step.Chunk, 3, false), (Step.Reduce, 3, false), (Step.Expand, 2, false), (Step.RepeatInterleave, 2, false),
        (Step.MaskedFill, 3, true), (Step.ConstProduct, 3, true), (Step.ConstNoRule, 2, true), (Step.ToDtype, 1, true),
        (Step.IdentityLike, 2, true), (Step.Add, 8, true), (Step.Mul, 8, true), (Step.Matmul, 6, false), (Step.Einsum, 2, false),
        (Step.Attention, 3, true), (Step.Sdpa, 1, true), (Step.LayerNorm, 3, true), (Step.LayerNormFunctional, 2, true),
        (Step.RmsHelper, 3, true), (Step.NormHelper, 2, true), (Step.IdentityHelper, 3, true), (Step.ScopedHelper, 4, false),
        (Step.Child, 3, false), (Step.Loop, 3, false), (Step.If, 3, false), (Step.Select, 2, false), (Step.Stack, 2, false),
        (Step.Where, 2, true),
    };

    private ClassGen? _root;

    private void RandomStep(ClassGen cls, Block block, int depth, Val? forced = null)
    {
        var allowed = Steps.Where(s => !block.Preserve || s.Preserves).ToArray();
        int total = allowed.Sum(s => s.Weight);
        for (int attempt = 0; attempt < 40; attempt++)
        {
            int pick = _rng.Next(total);
            var step = allowed.First(s => (pick -= s.Weight) < 0).Step;
            if (TryStep(step, cls, block, depth, forced) is not null) return;
        }
        // Always possible: an activation of a value in scope.
        TryStep(Step.Activation, cls, block, depth, forced);
    }

    private Val? TryStep(Step step, ClassGen cls, Block block, int depth, Val? forced)
    {
        Val? Primary(Func<Val, bool> ok) => forced is not null ? (ok(forced) ? forced : null) : ChoosePrimary(block, ok);
        bool atRoot = ReferenceEquals(cls, _root) && block.Kind == BlockKind.Forward && depth == 0;
        switch (step)
        {
            case Step.Activation:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                var form = WeightedPick(ActivationForms);
                if (form.StartsWith("torch.exp", StringComparison.Ordinal) && x.Gate) form = "torch.tanh({0})";
                return Emit(cls, block, string.Format(form, x.Name), $"rr__.Identity(u__ => {string.Format(form, "u__")}, {x.Name})",
                    x.Shape, x.OnPath, gate: true, contiguous: true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.ActivationModule:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                var type = Pick(ActivationModules);
                var f = Field(cls, type, "act", $"nn.{type}()");
                return Emit(cls, block, $"@{f}.call({x.Name})", $"rr__.Identity(u__ => mm__.{f}.call(u__), {x.Name})",
                    x.Shape, x.OnPath, gate: true, contiguous: true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.Linear:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                long outDim = block.Preserve ? x.Last : Pick(x.Last, 4L, 6L, 8L);
                if (x.Numel / x.Last * outDim > MaxNumel) outDim = x.Last;
                bool bias = Chance(0.7);
                double? memberEps = Chance(0.2) ? Pick(0.01, 0.1, 1e-3) : null;
                var f = cls.Names.Fresh("fc", member: true);
                cls.Fields.Add((memberEps is null ? "" : $"[EpsilonRule({D(memberEps.Value)})] ") + $"internal readonly Linear {f};");
                cls.Ctor.Add($"{f} = nn.Linear({L(x.Last)}, {L(outDim)}, hasBias: {B(bias)});");
                double eps = memberEps ?? block.Scope.Epsilon ?? 0;
                string call = Chance(0.15) ? "forward" : "call";
                string plain = $"mm__.{f}.{call}({x.Name})";
                return Emit(cls, block, $"@{f}.{call}({x.Name})", eps > 0 ? $"rr__.Epsilon({plain}, {D(eps)})" : plain,
                    x.Shape[..^1].Append(outDim).ToArray(), x.OnPath, gate: false, contiguous: true, x.Tainted, MaybeReplace(block, x, outDim == x.Last));
            }
            case Step.Softmax:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                long dim = Chance(0.7) ? -1 : _rng.Next(-x.Rank, x.Rank);
                var form = Pick("{0}.softmax({1})", "torch.softmax({0}, {1})", "nn.functional.softmax({0}, {1})");
                var text = string.Format(form, x.Name, L(dim));
                return Emit(cls, block, text, text, x.Shape, x.OnPath, gate: true, contiguous: true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.Scalar:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                string c = D(Pick(0.5, 2.0, 1.5, 0.25, 3.0, -0.75));
                var (form, gate) = _rng.Next(10) switch
                {
                    0 => ("{0} * {1}", x.Gate),
                    1 => ("{1} * {0}", x.Gate),
                    2 => ("{0} / {1}", x.Gate),
                    3 => ("{0} + {1}", x.Gate),
                    4 => ("{0} - {1}", x.Gate),
                    5 => ("{0}.mul({1})", x.Gate),
                    6 => ("{0}.div({1})", x.Gate),
                    7 => ("{1} + {0}", x.Gate),
                    8 => ("-{0}", NegateKeepsGate(x)),
                    _ => ("{1} - {0}", NegateKeepsGate(x)),
                };
                if (form.Contains('-') && form.Contains("{0}") && form.IndexOf('-') < form.IndexOf("{0}", StringComparison.Ordinal) && x.Gate && !_config.On("negate-gate"))
                    form = "{0} * {1}";
                if (Chance(0.15) && form is "{0} * {1}")
                {
                    // A configuration scalar read from a field.
                    var f = cls.Names.Fresh("scale", member: true);
                    cls.Fields.Add($"internal readonly double {f};");
                    cls.CtorParams.Add(($"double {f}", c));
                    cls.Ctor.Add($"this.{f} = {f};");
                    c = "@" + f;
                }
                var text = string.Format(form, x.Name, c);
                return Emit(cls, block, text, text, x.Shape, x.OnPath, gate, contiguous: true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.Split:
            {
                var x = Primary(v => v.Rank < 5 && v.Shape.Any(d => d >= 4 && d % 2 == 0));
                if (x is null) return null;
                var dims = Enumerable.Range(0, x.Rank).Where(i => x.Shape[i] >= 4 && x.Shape[i] % 2 == 0).ToList();
                int at = PickFrom(dims);
                var shape = x.Shape.Take(at).Concat(Chance(0.5) ? new[] { 2L, x.Shape[at] / 2 } : new[] { x.Shape[at] / 2, 2L }).Concat(x.Shape.Skip(at + 1)).ToArray();
                return EmitReshape(cls, block, x, shape);
            }
            case Step.Merge:
            {
                var x = Primary(v => v.Rank >= 2);
                if (x is null) return null;
                int at = _rng.Next(x.Rank - 1);
                var shape = x.Shape.Take(at).Append(x.Shape[at] * x.Shape[at + 1]).Concat(x.Shape.Skip(at + 2)).ToArray();
                if (Chance(0.5))
                    return Emit(cls, block, $"{x.Name}.flatten({at}, {at + 1})", $"{x.Name}.flatten({at}, {at + 1})", shape, x.OnPath, x.Gate, x.Contiguous, x.Tainted, MaybeReplace(block, x, false));
                return EmitReshape(cls, block, x, shape);
            }
            case Step.Unsqueeze:
            {
                var x = Primary(v => v.Rank < 5);
                if (x is null) return null;
                int at = _rng.Next(x.Rank + 1);
                var shape = x.Shape.Take(at).Append(1L).Concat(x.Shape.Skip(at)).ToArray();
                var text = $"{x.Name}.unsqueeze({at})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, x.Contiguous, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Squeeze:
            {
                var x = Primary(v => v.Rank > 1 && v.Shape.Contains(1L));
                if (x is null) return null;
                int at = Array.IndexOf(x.Shape, 1L);
                var shape = x.Shape.Where((_, i) => i != at).ToArray();
                var text = $"{x.Name}.squeeze({at})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, x.Contiguous, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Transpose:
            {
                var x = Primary(v => v.Rank >= 2);
                if (x is null) return null;
                int a = _rng.Next(x.Rank), b = (a + 1 + _rng.Next(x.Rank - 1)) % x.Rank;
                var shape = (long[])x.Shape.Clone();
                (shape[a], shape[b]) = (shape[b], shape[a]);
                string da = Chance(0.3) ? L(a - x.Rank) : L(a);
                var text = x.Rank >= 2 && Chance(0.2) && _config.On("new-ops") ? $"{x.Name}.mT" : $"{x.Name}.transpose({da}, {b})";
                if (text.EndsWith(".mT", StringComparison.Ordinal))
                {
                    shape = (long[])x.Shape.Clone();
                    (shape[^1], shape[^2]) = (shape[^2], shape[^1]);
                }
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, false, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Permute:
            {
                var x = Primary(v => v.Rank >= 3);
                if (x is null) return null;
                var perm = Enumerable.Range(0, x.Rank).OrderBy(_ => _rng.Next()).ToArray();
                var shape = perm.Select(i => x.Shape[i]).ToArray();
                var text = $"{x.Name}.permute({string.Join(", ", perm)})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, false, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Narrow:
            {
                var x = Primary(v => v.Shape.Any(d => d >= 2));
                if (x is null) return null;
                var dims = Enumerable.Range(0, x.Rank).Where(i => x.Shape[i] >= 2).ToList();
                int at = PickFrom(dims);
                long len = 1 + _rng.Next((int)x.Shape[at] - 1), start = _rng.Next((int)(x.Shape[at] - len + 1));
                var shape = (long[])x.Shape.Clone();
                shape[at] = len;
                var text = $"{x.Name}.narrow({at}, {start}, {len})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, false, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Index:
            {
                var x = Primary(v => v.Rank >= 2 && v.Shape.Any(d => d >= 2));
                if (x is null) return null;
                string text;
                long[] shape;
                switch (_rng.Next(3))
                {
                    case 0 when x.Last >= 2:
                    {
                        long len = 1 + _rng.Next((int)x.Last - 1), start = _rng.Next((int)(x.Last - len + 1));
                        text = $"{x.Name}[TensorIndex.Ellipsis, TensorIndex.Slice({start}, {start + len})]";
                        shape = x.Shape[..^1].Append(len).ToArray();
                        break;
                    }
                    case 1 when x.Shape[1] >= 2:
                    {
                        long start = _rng.Next((int)x.Shape[1] - 1);
                        text = $"{x.Name}[TensorIndex.Colon, TensorIndex.Slice({start})]";
                        shape = (long[])x.Shape.Clone();
                        shape[1] = x.Shape[1] - start;
                        break;
                    }
                    default:
                    {
                        long i = _rng.Next((int)x.Shape[1]);
                        text = Chance(0.5) ? $"{x.Name}[TensorIndex.Colon, TensorIndex.Single({i})]" : $"{x.Name}[TensorIndex.Colon, {i - x.Shape[1]}]";
                        shape = x.Shape.Where((_, k) => k != 1).ToArray();
                        break;
                    }
                }
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, false, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Cat:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                int at = _rng.Next(x.Rank);
                var partners = block.Pool.Where(v => v.Rank == x.Rank && Enumerable.Range(0, x.Rank).All(i => i == at || v.Shape[i] == x.Shape[i])).ToList();
                var y = PickFrom(partners);
                var shape = (long[])x.Shape.Clone();
                shape[at] += y.Shape[at];
                if (shape.Aggregate(1L, (a, b) => a * b) > MaxNumel) return null;
                string dim = Chance(0.3) ? L(at - x.Rank) : L(at);
                var text = Chance(0.8) ? $"torch.cat(new[] {{ {x.Name}, {y.Name} }}, {dim})" : $"torch.cat(new Tensor[] {{ {x.Name}, {y.Name} }}, dim: {dim})";
                return Emit(cls, block, text, text, shape, x.OnPath || y.OnPath, false, true, x.Tainted || y.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Chunk:
            {
                var x = Primary(v => v.Shape.Any(d => d >= 2 && d % 2 == 0));
                if (x is null) return null;
                var dims = Enumerable.Range(0, x.Rank).Where(i => x.Shape[i] >= 2 && x.Shape[i] % 2 == 0).ToList();
                int at = PickFrom(dims);
                var shape = (long[])x.Shape.Clone();
                shape[at] /= 2;
                string call = Chance(0.5) ? $"{x.Name}.chunk(2, {at})" : $"{x.Name}.split({shape[at]}, {at})";
                if (Chance(0.5))
                {
                    int k = _rng.Next(2);
                    return Emit(cls, block, $"{call}[{k}]", $"{call}[{k}]", shape, x.OnPath, x.Gate, false, x.Tainted);
                }
                var parts = cls.Names.Fresh("parts");
                block.Both($"var {parts} = {call};", $"var {parts} = {call};");
                Val? last = null;
                foreach (int k in Enumerable.Range(0, 2).OrderBy(_ => _rng.Next()))
                    last = Emit(cls, block, $"{parts}[{k}]", $"{parts}[{k}]", shape, x.OnPath, x.Gate, false, x.Tainted);
                return last;
            }
            case Step.Reduce:
            {
                var x = Primary(v => v.Rank >= 2);
                if (x is null) return null;
                int at = _rng.Next(x.Rank);
                bool keep = Chance(0.5);
                var shape = keep ? x.Shape.Select((d, i) => i == at ? 1L : d).ToArray() : x.Shape.Where((_, i) => i != at).ToArray();
                string dim = Chance(0.3) ? L(at - x.Rank) : L(at);
                var text = Chance(0.5) ? $"{x.Name}.sum({dim}, keepdim: {B(keep)})" : $"{x.Name}.mean(new long[] {{ {dim} }}, keepdim: {B(keep)})";
                return Emit(cls, block, text, text, shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Expand:
            {
                var x = Primary(v => v.Shape.Contains(1L));
                if (x is null) return null;
                var shape = x.Shape.Select(d => d == 1 ? Pick(2L, 3L) : d).ToArray();
                if (shape.Aggregate(1L, (a, b) => a * b) > MaxNumel) return null;
                var text = $"{x.Name}.expand({Code.Shape(shape)})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, false, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.RepeatInterleave:
            {
                var x = Primary(v => v.Numel * 2 <= MaxNumel);
                if (x is null) return null;
                int at = _rng.Next(x.Rank);
                var shape = x.Shape.Select((d, i) => i == at ? d * 2 : d).ToArray();
                var text = $"{x.Name}.repeat_interleave(2, dim: {at})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, true, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.MaskedFill:
            {
                if (!atRoot) return null;
                var x = Primary(_ => true);
                if (x is null) return null;
                var mask = NewInput(cls, "mask", Chance(0.5) ? x.Shape : x.Shape.Select((d, i) => i == x.Rank - 1 ? d : 1L).ToArray(), InputKind.BoolMask);
                if (Chance(0.5))
                {
                    var text = $"{x.Name}.masked_fill({mask}, -1e9).softmax(-1)";
                    return Emit(cls, block, text, text, x.Shape, x.OnPath, true, true, x.Tainted, MaybeReplace(block, x));
                }
                var fill = $"{x.Name}.masked_fill({mask}, {D(Pick(0.0, 0.5))})";
                return Emit(cls, block, fill, fill, x.Shape, x.OnPath, x.Gate, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.ConstProduct:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                string text;
                long[] shape = x.Shape;
                switch (_rng.Next(atRoot ? 5 : 3))
                {
                    case 0:
                    {
                        var p = ParameterField(cls, "w", new[] { x.Last });
                        text = $"{x.Name} * @{p}";
                        break;
                    }
                    case 1:
                    {
                        var y = PickFrom(block.Pool.Where(v => Broadcast(x.Shape, v.Shape) is { } s && s.SequenceEqual(x.Shape)).ToList());
                        text = $"{x.Name} * {y.Name}.detach()";
                        break;
                    }
                    case 2:
                    {
                        long m = Pick(4L, 6L);
                        if (block.Preserve || x.Rank < 2 || x.Numel / x.Last * m > MaxNumel) return null;
                        var p = ParameterField(cls, "proj", new[] { x.Last, m });
                        text = $"{x.Name}.matmul(@{p})";
                        shape = x.Shape[..^1].Append(m).ToArray();
                        break;
                    }
                    case 3:
                    {
                        var mask = NewInput(cls, "mask", x.Shape, InputKind.BoolMask);
                        text = $"{x.Name} * {mask}.to({x.Name}.dtype)";
                        break;
                    }
                    default:
                    {
                        var c = NewInput(cls, "bias", x.Shape.Select((d, i) => i == x.Rank - 1 ? d : 1L).ToArray(), InputKind.FloatConstant);
                        text = Chance(0.5) ? $"{x.Name} + {c}" : $"{c} * {x.Name}";
                        break;
                    }
                }
                return Emit(cls, block, text, text.Replace("@", "mm__."), shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x, shape.SequenceEqual(x.Shape)));
            }
            case Step.ConstNoRule:
            {
                // Operations without a rule are fine off the relevance path: the program must compile.
                var x = Primary(_ => true);
                if (x is null) return null;
                var y = PickFrom(block.Pool.Where(v => v.Shape.SequenceEqual(x.Shape)).ToList());
                var text = Pick($"{x.Name} * {y.Name}.detach().abs()", $"{x.Name} + {y.Name}.detach().cumsum(-1)", $"{x.Name} * torch.cos({y.Name}.detach())",
                    $"{x.Name} + {y.Name}.detach().abs().add(1.0).log()");
                return Emit(cls, block, text, text, x.Shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.ToDtype:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                var y = _config.On("dtype-read") ? PickFrom(block.Pool) : x;
                var text = Chance(0.3) && _config.On("new-ops") ? $"{x.Name}.type_as({y.Name})" : $"{x.Name}.to({y.Name}.dtype)";
                return Emit(cls, block, text, text, x.Shape, x.OnPath, x.Gate, x.Contiguous, x.Tainted, MaybeReplace(block, x));
            }
            case Step.IdentityLike:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                string fwd, reference;
                switch (_rng.Next(5))
                {
                    case 0: fwd = reference = $"{x.Name}.contiguous()"; break;
                    case 1: fwd = reference = $"{x.Name}.clone()"; break;
                    case 2: fwd = reference = $"nn.functional.dropout({x.Name}, 0.1, training: false)"; break;
                    case 3:
                    {
                        var f = Field(cls, "Dropout", "drop", "nn.Dropout(0.2)");
                        fwd = $"@{f}.call({x.Name})";
                        reference = $"mm__.{f}.call({x.Name})";
                        break;
                    }
                    default:
                    {
                        var f = Field(cls, "Identity", "same", "nn.Identity()");
                        fwd = $"@{f}.call({x.Name})";
                        reference = $"mm__.{f}.call({x.Name})";
                        break;
                    }
                }
                return Emit(cls, block, fwd, reference, x.Shape, x.OnPath, x.Gate, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.Add:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                var y = Partner(block, x);
                if (y is null) return null;
                var shape = Broadcast(x.Shape, y.Shape)!;
                bool sub = Chance(0.4);
                if (shape.SequenceEqual(x.Shape) && block.Declared.Contains(x.Name) && Chance(0.2))
                    return Compound(block, x, y, sub ? "-=" : "+=", $"{x.Name} {(sub ? "-" : "+")} {y.Name}", shape, false);
                var text = Pick($"{x.Name} {(sub ? "-" : "+")} {y.Name}", sub ? $"{x.Name}.sub({y.Name})" : $"{x.Name}.add({y.Name})",
                    sub ? $"torch.sub({x.Name}, {y.Name})" : $"torch.add({x.Name}, {y.Name})");
                return Emit(cls, block, text, text, shape, x.OnPath || y.OnPath, false, true, x.Tainted || y.Tainted, MaybeReplace(block, x, shape.SequenceEqual(x.Shape)));
            }
            case Step.Mul:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                var y = Partner(block, x);
                if (y is null) return null;
                var shape = Broadcast(x.Shape, y.Shape)!;
                var reference = ProductRef(block, x.Name, x.OnPath, x.Gate, y.Name, y.OnPath, y.Gate, "(p__, q__) => p__ * q__", $"{x.Name} * {y.Name}");
                if (shape.SequenceEqual(x.Shape) && block.Declared.Contains(x.Name) && Chance(0.2))
                    return Compound(block, x, y, "*=", reference, shape, false);
                var text = Pick($"{x.Name} * {y.Name}", $"{x.Name}.mul({y.Name})", $"torch.mul({x.Name}, {y.Name})");
                return Emit(cls, block, text, reference, shape, x.OnPath || y.OnPath, false, true, x.Tainted || y.Tainted, MaybeReplace(block, x, shape.SequenceEqual(x.Shape)));
            }
            case Step.Matmul:
            case Step.Einsum:
            {
                bool einsum = step == Step.Einsum;
                if (einsum && !_config.On("einsum")) return null;
                var x = Primary(v => einsum ? v.Rank == 3 : v.Rank >= 2);
                if (x is null) return null;
                var direct = block.Pool.Where(v => v.Rank == x.Rank && v.Shape[^2] == x.Last && v.Shape[..^2].SequenceEqual(x.Shape[..^2])).ToList();
                string yText;
                Val y;
                if (direct.Count > 0 && Chance(0.5))
                {
                    y = PickFrom(direct);
                    yText = y.Name;
                }
                else
                {
                    var same = block.Pool.Where(v => v.Rank == x.Rank && v.Last == x.Last && v.Shape[..^2].SequenceEqual(x.Shape[..^2])).ToList();
                    y = PickFrom(same);
                    yText = $"{y.Name}.transpose(-2, -1)";
                }
                long m = yText == y.Name ? y.Last : y.Shape[^2];
                var shape = x.Shape[..^1].Append(m).ToArray();
                if (shape.Aggregate(1L, (a, b) => a * b) > MaxNumel) return null;
                string text = einsum ? $"torch.einsum(\"bij,bjk->bik\", {x.Name}, {yText})"
                    : x.Rank == 3 && Chance(0.2) ? $"{x.Name}.bmm({yText})"
                    : Chance(0.5) ? $"{x.Name}.matmul({yText})" : $"torch.matmul({x.Name}, {yText})";
                var reference = ProductRef(block, x.Name, x.OnPath, x.Gate, yText, y.OnPath, y.Gate, "(p__, q__) => p__.matmul(q__)", $"{x.Name}.matmul({yText})");
                return Emit(cls, block, text, reference, shape, x.OnPath || y.OnPath, false, true, x.Tainted || y.Tainted, MaybeReplace(block, x, shape.SequenceEqual(x.Shape)));
            }
            case Step.Attention:
            {
                var q = Primary(v => v.Rank >= 2 && v.OnPath && v.Numel / v.Last * v.Shape[^2] <= MaxNumel);
                if (q is null) return null;
                var same = block.Pool.Where(v => v.Shape.SequenceEqual(q.Shape)).ToList();
                var k = PickFrom(same);
                var v = PickFrom(same);
                double scale = 1 / Math.Sqrt(q.Last);
                var scoresShape = q.Shape[..^1].Append(q.Shape[^2]).ToArray();
                var scoresRef = ProductRef(block, q.Name, q.OnPath, q.Gate, $"{k.Name}.transpose(-2, -1)", k.OnPath, k.Gate, "(p__, q__) => p__.matmul(q__)", $"{q.Name}.matmul({k.Name}.transpose(-2, -1))");
                var scores = Emit(cls, block, $"{q.Name}.matmul({k.Name}.transpose(-2, -1)) * {D(scale)}", $"{scoresRef} * {D(scale)}",
                    scoresShape, q.OnPath || k.OnPath, false, true, q.Tainted || k.Tainted);
                string softmaxText = $"{scores.Name}.softmax(-1)";
                if (atRoot && Chance(0.4))
                {
                    var mask = NewInput(cls, "mask", new[] { q.Shape[^2], q.Shape[^2] }, InputKind.BoolMask);
                    softmaxText = $"{scores.Name}.masked_fill({mask}, -1e9).softmax(-1)";
                }
                var probs = Emit(cls, block, softmaxText, softmaxText, scoresShape, scores.OnPath, true, true, scores.Tainted);
                var outRef = ProductRef(block, probs.Name, probs.OnPath, true, v.Name, v.OnPath, v.Gate, "(p__, q__) => p__.matmul(q__)", $"{probs.Name}.matmul({v.Name})");
                return Emit(cls, block, $"{probs.Name}.matmul({v.Name})", outRef, q.Shape, probs.OnPath || v.OnPath, false, true, probs.Tainted || v.Tainted);
            }
            case Step.Sdpa:
            {
                var q = Primary(v => v.Rank >= 3 && v.OnPath && v.Numel / v.Last * v.Shape[^2] <= MaxNumel);
                if (q is null) return null;
                var same = block.Pool.Where(v => v.Shape.SequenceEqual(q.Shape)).ToList();
                var k = PickFrom(same);
                var v = PickFrom(same);
                bool causal = Chance(0.4);
                var text = $"nn.functional.scaled_dot_product_attention({q.Name}, {k.Name}, {v.Name}{(causal ? ", is_casual: true" : "")})";
                var scores = $"{ProductRef(block, q.Name, q.OnPath, q.Gate, $"{k.Name}.transpose(-2, -1)", k.OnPath, k.Gate, "(p__, q__) => p__.matmul(q__)", $"{q.Name}.matmul({k.Name}.transpose(-2, -1))")} * {D(1 / Math.Sqrt(q.Last))}";
                if (causal) scores = $"({scores}).masked_fill(torch.ones({q.Shape[^2]}, {q.Shape[^2]}, ScalarType.Bool).triu(1), double.NegativeInfinity)";
                var reference = ProductRef(block, $"({scores}).softmax(-1)", q.OnPath || k.OnPath, true, v.Name, v.OnPath, v.Gate, "(p__, q__) => p__.matmul(q__)", $"({scores}).softmax(-1).matmul({v.Name})");
                return Emit(cls, block, text, reference, q.Shape, q.OnPath || k.OnPath || v.OnPath, false, true, q.Tainted || k.Tainted || v.Tainted, MaybeReplace(block, q));
            }
            case Step.LayerNorm:
            {
                var x = Primary(v => v.Last >= 2);
                if (x is null) return null;
                var f = cls.Names.Fresh("ln", member: true);
                cls.Fields.Add($"internal readonly LayerNorm {f};");
                cls.Ctor.Add($"{f} = nn.LayerNorm({x.Last});");
                cls.Ctor.Add($"using (torch.no_grad()) {{ {f}.weight!.uniform_(0.5, 1.5); {f}.bias!.uniform_(-0.5, 0.5); }}");
                return Emit(cls, block, $"@{f}.call({x.Name})", $"rr__.LayerNorm({x.Name}, mm__.{f}.weight, mm__.{f}.bias, 1e-5)",
                    x.Shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.LayerNormFunctional:
            {
                var x = Primary(v => v.Last >= 2);
                if (x is null) return null;
                var w = ParameterField(cls, "lnWeight", new[] { x.Last });
                bool withBias = Chance(0.6);
                var bias = withBias ? ParameterField(cls, "lnBias", new[] { x.Last }) : null;
                var text = withBias
                    ? $"nn.functional.layer_norm({x.Name}, new long[] {{ {x.Last} }}, @{w}, @{bias}, 1e-5)"
                    : $"nn.functional.layer_norm({x.Name}, new long[] {{ {x.Last} }}, weight: @{w})";
                return Emit(cls, block, text, $"rr__.LayerNorm({x.Name}, mm__.{w}, {(withBias ? "mm__." + bias : "null")}, 1e-5)",
                    x.Shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.RmsHelper:
            {
                var x = Primary(v => v.Last >= 2);
                if (x is null) return null;
                var w = ParameterField(cls, "rmsWeight", new[] { x.Last });
                var h = cls.Names.Fresh("RmsNorm", member: true);
                var p = cls.Names.Fresh("x");
                const string eps = "1e-6";
                if (Chance(0.5))
                    cls.Methods.Add($"    [NormIdentity]\n    private Tensor {h}(Tensor {p}) =>\n        {p} * torch.rsqrt({p}.pow(2).mean(new long[] {{ -1 }}, keepdim: true) + {eps}) * {w};\n");
                else
                {
                    var ms = cls.Names.Fresh("ms");
                    cls.Methods.Add($"    [NormIdentity]\n    private Tensor {h}(Tensor {p})\n    {{\n        var {ms} = {p}.pow(2).mean(new long[] {{ -1 }}, keepdim: true);\n        return {p} * torch.rsqrt({ms} + {eps}) * {w};\n    }}\n");
                }
                return Emit(cls, block, $"@{h}({x.Name})", $"rr__.RmsNorm({x.Name}, mm__.{w}, {eps})", x.Shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.NormHelper:
            {
                var x = Primary(v => v.Last >= 2);
                if (x is null) return null;
                var w = ParameterField(cls, "normWeight", new[] { x.Last });
                var b = ParameterField(cls, "normBias", new[] { x.Last });
                var h = cls.Names.Fresh("Normalize", member: true);
                var p = cls.Names.Fresh("x");
                var mu = cls.Names.Fresh("mu");
                var xc = cls.Names.Fresh("xc");
                var sd = cls.Names.Fresh("sd");
                cls.Methods.Add($"    [NormIdentity]\n    private Tensor {h}(Tensor {p})\n    {{\n" +
                                $"        var {mu} = {p}.mean(new long[] {{ -1 }}, keepdim: true);\n" +
                                $"        var {xc} = {p} - {mu};\n" +
                                $"        var {sd} = torch.sqrt({xc}.pow(2).mean(new long[] {{ -1 }}, keepdim: true) + 1e-5);\n" +
                                $"        return {xc} / {sd} * {w} + {b};\n    }}\n");
                return Emit(cls, block, $"@{h}({x.Name})", $"rr__.LayerNorm({x.Name}, mm__.{w}, mm__.{b}, 1e-5)", x.Shape, x.OnPath, false, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.IdentityHelper:
            {
                var x = Primary(_ => true);
                if (x is null) return null;
                var h = cls.Names.Fresh("Act", member: true);
                var p = cls.Names.Fresh("x");
                string call, lambda;
                switch (_rng.Next(3))
                {
                    case 0:
                        cls.Methods.Add($"    [IdentityNonlinearity]\n    internal static Tensor {h}(Tensor {p}) =>\n        0.5 * {p} * (1.0 + torch.tanh(Math.Sqrt(2.0 / Math.PI) * ({p} + 0.044715 * torch.pow({p}, 3.0))));\n");
                        call = $"{h}({x.Name})";
                        lambda = $"u__ => {cls.Name}.{h}(u__)";
                        break;
                    case 1:
                    {
                        var k = cls.Names.Fresh("k");
                        cls.Methods.Add($"    [IdentityNonlinearity]\n    internal static Tensor {h}(Tensor {p}, double {k}) => torch.tanh({p} * {k}) * {p};\n");
                        call = $"{h}({x.Name}, 0.7)";
                        lambda = $"u__ => {cls.Name}.{h}(u__, 0.7)";
                        break;
                    }
                    default:
                    {
                        var s = cls.Names.Fresh("slope", member: true);
                        cls.Fields.Add($"internal readonly double {s};");
                        cls.CtorParams.Add(($"double {s}", "1.702"));
                        cls.Ctor.Add($"this.{s} = {s};");
                        cls.Methods.Add($"    [IdentityNonlinearity]\n    internal Tensor {h}(Tensor {p}) => {p} * torch.sigmoid({s} * {p});\n");
                        call = $"@{h}({x.Name})";
                        lambda = $"u__ => mm__.{h}(u__)";
                        break;
                    }
                }
                return Emit(cls, block, call, $"rr__.Identity({lambda}, {x.Name})", x.Shape, x.OnPath, true, true, x.Tainted, MaybeReplace(block, x));
            }
            case Step.Select:
            {
                if (!_config.On("new-ops")) return null;
                var x = Primary(v => v.Rank >= 2);
                if (x is null) return null;
                int at = _rng.Next(x.Rank);
                long i = _rng.Next((int)x.Shape[at]);
                var shape = x.Shape.Where((_, k) => k != at).ToArray();
                var text = $"{x.Name}.select({at}, {i})";
                return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, false, x.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Stack:
            {
                if (!_config.On("new-ops")) return null;
                var x = Primary(v => v.Rank < 5 && v.Numel * 2 <= MaxNumel);
                if (x is null) return null;
                var y = PickFrom(block.Pool.Where(v => v.Shape.SequenceEqual(x.Shape)).ToList());
                int at = _rng.Next(x.Rank + 1);
                var shape = x.Shape.Take(at).Append(2L).Concat(x.Shape.Skip(at)).ToArray();
                var text = $"torch.stack(new[] {{ {x.Name}, {y.Name} }}, {at})";
                return Emit(cls, block, text, text, shape, x.OnPath || y.OnPath, false, true, x.Tainted || y.Tainted, MaybeReplace(block, x, false));
            }
            case Step.Where:
            {
                if (!atRoot || !_config.On("new-ops")) return null;
                var x = Primary(_ => true);
                if (x is null) return null;
                var y = PickFrom(block.Pool.Where(v => v.Shape.SequenceEqual(x.Shape)).ToList());
                var mask = NewInput(cls, "mask", x.Shape, InputKind.BoolMask);
                var text = $"torch.where({mask}, {x.Name}, {y.Name})";
                return Emit(cls, block, text, text, x.Shape, x.OnPath || y.OnPath, false, true, x.Tainted || y.Tainted, MaybeReplace(block, x));
            }
            case Step.ScopedHelper:
                return block.Kind == BlockKind.Forward ? ScopedHelper(cls, block, forced) : null;
            case Step.Child:
                return atRoot && _config.On("child") ? ChildCall(cls, block, forced) : null;
            case Step.Loop:
                return atRoot && _config.On("loop") ? Loop(cls, block, forced) : null;
            case Step.If:
                return atRoot && _config.On("if") ? Branch(cls, block, forced) : null;
            default:
                throw new InvalidOperationException(step.ToString());
        }
    }

    /// <summary>The generator's notion: negation does not keep a gate a gate. With "negate-gate" on, the fuzzer
    /// holds that it should (a sign flip is structural, like a scale by -1).</summary>
    private bool NegateKeepsGate(Val x) => x.Gate && _config.On("negate-gate");

    private string ProductRef(Block block, string a, bool aOn, bool aGate, string b, bool bOn, bool bGate, string op, string plain) =>
        aOn && bOn ? $"rr__.Product({a}, {b}, {op}, {B(aGate)}, {B(bGate)}, {B(block.Scope.CpForced)})" : plain;

    private Val? Partner(Block block, Val x)
    {
        var candidates = block.Pool.Where(v => Broadcast(x.Shape, v.Shape) is { } s && s.Aggregate(1L, (a, b) => a * b) <= MaxNumel).ToList();
        var sameShape = candidates.Where(v => v.Shape.SequenceEqual(x.Shape) && v != x).ToList();
        if (sameShape.Count > 0 && Chance(0.6)) return PickFrom(sameShape);
        return candidates.Count == 0 ? null : PickFrom(candidates);
    }

    internal static long[]? Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            long db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            result[i] = Math.Max(da, db);
        }
        return result;
    }

    private Val ChoosePrimary(Block block, Func<Val, bool> ok) => ChoosePrimaryOrNull(block, ok)!;

    private Val? ChoosePrimaryOrNull(Block block, Func<Val, bool> ok)
    {
        var candidates = block.Pool.Where(ok).ToList();
        if (candidates.Count == 0) return null;
        if (_rejected)
        {
            var tainted = candidates.Where(v => v.Tainted).ToList();
            if (tainted.Count > 0 && Chance(0.85)) return tainted[^1];
        }
        var onPath = candidates.Where(v => v.OnPath).ToList();
        if (onPath.Count > 0 && Chance(0.8))
            return onPath[Math.Max(0, onPath.Count - 1 - _rng.Next(Math.Min(4, onPath.Count)))];
        return PickFrom(candidates);
    }

    private Val? MaybeReplace(Block block, Val x, bool sameShape = true)
    {
        if (!Chance(0.2)) return null;
        if (block.Declared.Contains(x.Name)) return x;
        bool isParameter = _root!.Inputs.Any(i => i.Name == x.Name) && block.Kind == BlockKind.Forward && ReferenceEquals(block, _root.Body);
        return isParameter && _config.On("param-reassign") ? x : null;
    }

    private Val Emit(ClassGen cls, Block block, string fwd, string reference, long[] shape, bool onPath, bool gate, bool contiguous, bool tainted,
        Val? replace = null, string comment = "")
    {
        string prefix = Chance(0.15) ? "this." : "";
        fwd = fwd.Replace("@", prefix);
        reference = reference.Replace("@", "mm__.");
        string name;
        if (replace is not null)
        {
            name = replace.Name;
            block.Both($"{name} = {fwd};{comment}", $"{name} = {reference};");
            block.Pool.Remove(replace);
        }
        else
        {
            name = cls.Names.Fresh("h");
            block.Both($"var {name} = {fwd};{comment}", $"var {name} = {reference};");
            block.Declared.Add(name);
        }
        var v = new Val { Name = name, Shape = shape, OnPath = onPath, Gate = gate && onPath, Contiguous = contiguous, Tainted = tainted };
        block.Pool.Add(v);
        block.Created.Add(v);
        return v;
    }

    private Val Compound(Block block, Val x, Val y, string op, string reference, long[] shape, bool gate)
    {
        block.Both($"{x.Name} {op} {y.Name};", $"{x.Name} = {reference};");
        block.Pool.Remove(x);
        var v = new Val { Name = x.Name, Shape = shape, OnPath = x.OnPath || y.OnPath, Gate = gate, Contiguous = true, Tainted = x.Tainted || y.Tainted };
        block.Pool.Add(v);
        block.Created.Add(v);
        return v;
    }

    private Val EmitReshape(ClassGen cls, Block block, Val x, long[] shape)
    {
        var dims = shape.Select(L).ToArray();
        // Shape reads (x.shape[0]) for a leading dimension that is unchanged, sometimes through a local.
        if (shape.Length > 0 && x.Rank > 0 && shape[0] == x.Shape[0] && Chance(0.5))
        {
            if (Chance(0.5))
            {
                var n = cls.Names.Fresh("n");
                block.Both($"long {n} = {x.Name}.shape[0];", $"long {n} = {x.Name}.shape[0];");
                dims[0] = n;
            }
            else dims[0] = $"{x.Name}.shape[0]";
        }
        if (Chance(0.3)) dims[_rng.Next(dims.Length)] = "-1";
        string method = x.Contiguous && Chance(0.6) ? "view" : "reshape";
        var text = $"{x.Name}.{method}({string.Join(", ", dims)})";
        return Emit(cls, block, text, text, shape, x.OnPath, x.Gate, x.Contiguous, x.Tainted, MaybeReplace(block, x, false));
    }

    private string Field(ClassGen cls, string type, string stem, string init)
    {
        var f = cls.Names.Fresh(stem, member: true);
        cls.Fields.Add($"internal readonly {type} {f};");
        cls.Ctor.Add($"{f} = {init};");
        return f;
    }

    private string ParameterField(ClassGen cls, string stem, long[] shape)
    {
        var f = cls.Names.Fresh(stem, member: true);
        cls.Fields.Add($"internal readonly Parameter {f};");
        cls.Ctor.Add($"{f} = nn.Parameter(torch.randn({Code.Shape(shape)}));");
        return f;
    }

    private string NewInput(ClassGen cls, string stem, long[] shape, InputKind kind)
    {
        var name = cls.Names.Fresh(stem);
        cls.Inputs.Insert(_rng.Next(cls.Inputs.Count + 1), (name, shape, kind));
        return name;
    }

    private string WeightedPick((string Form, int Weight)[] items)
    {
        int pick = _rng.Next(items.Sum(i => i.Weight));
        return items.First(i => (pick -= i.Weight) < 0).Form;
    }
}
