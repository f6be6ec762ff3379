using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Generators.Diagnostics;
using LrpGen.Generators.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace LrpGen.Generators.Parse;

internal sealed partial class ForwardLowerer
{
    private int LowerInvocation(IInvocationOperation inv)
    {
        var method = inv.TargetMethod;
        if ((method.Name is "call" or "forward") && inv.Instance is not null && TorchSymbols.IsModule(inv.Instance.Type))
            return LowerModuleCall(inv);
        if (SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, _class.OriginalDefinition)
            && method.DeclaringSyntaxReferences.Length > 0)
            return LowerHelper(inv);
        if (IsSharedHelper(method))
            return LowerHelper(inv);
        if (TorchSymbols.IsTorchApi(method.ContainingType))
            return LowerTorchCall(inv);
        return LowerUnknown(inv, $"the call '{method.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)}'");
    }

    private static readonly string[] RuleAttributes =
    {
        "EpsilonRuleAttribute", "GammaRuleAttribute", "IdentityNonlinearityAttribute", "NormIdentityAttribute", "UniformMatmulAttribute",
        "UniformRuleAttribute", "CpLrpAttribute", "PlainGradientAttribute",
    };

    /// <summary>A static method of another class, in source, marked [LrpHelper] (or in a class marked so) or with a rule attribute.</summary>
    private static bool IsSharedHelper(IMethodSymbol method) =>
        method.IsStatic && method.DeclaringSyntaxReferences.Length > 0 && !TorchSymbols.IsTorchApi(method.ContainingType)
        && (TorchSymbols.FindAttribute(method, "LrpHelperAttribute") is not null
            || (method.ContainingType is { } type && TorchSymbols.FindAttribute(type, "LrpHelperAttribute") is not null)
            || RuleAttributes.Any(a => TorchSymbols.FindAttribute(method, a) is not null));

    // ---------------------------------------------------------------- torch functions and tensor methods

    private int LowerTorchCall(IInvocationOperation inv)
    {
        var m = inv.TargetMethod;
        string name = m.Name;
        var tensorArgs = TensorArguments(inv);
        // Tensors may also arrive in a list (einsum's params array, stack's list): such a call is no constant.
        if (tensorArgs.Count == 0 && !HasTensorList(inv))
            return EmitConstant(inv, owned: true);
        if (tensorArgs.Count == 0)
            return name switch
            {
                "cat" or "concat" or "concatenate" => LowerCat(inv),
                "stack" => LowerStack(inv),
                "einsum" => LowerEinsum(inv),
                _ => LowerUnknown(inv, $"'{name}'"),
            };
        int X() => tensorArgs[0].Value;
        string XName() => _values[X()].CName;
        OpArg InShape() => new("inputShape", $"{XName()}.shape", "long[]", false);

        if (TorchFunctions.Factories.Contains(name)) return EmitConstant(inv, owned: true);
        if (TorchFunctions.ZeroGradient.Contains(name)) return LowerZeroGradient(inv, $"'{name}'");
        if (name.EndsWith("_", StringComparison.Ordinal) && name != "requires_grad_")
            return Fail(inv, $"the in-place operation '{name}' (use its out-of-place form)");

        switch (name)
        {
            case "view" or "reshape" or "flatten" or "unsqueeze" or "squeeze" or "view_as" or "reshape_as" or "unflatten":
                return Emit(OpKind.Reshape, inv, tensorArgs.Select(t => t.Value).ToArray(), new[] { InShape() });
            case "contiguous" or "clone" or "alias" or "requires_grad_":
                return Emit(OpKind.Identity, inv, new[] { X() });
            case "dropout" or "dropout1d" or "dropout2d" or "alpha_dropout" or "feature_alpha_dropout":
                return EmitWithForward(OpKind.Identity, inv, new[] { X() }, $"{XName()}.alias()");
            case "transpose" or "swapaxes" or "swapdims":
                return Emit(OpKind.Transpose, inv, new[] { X() }, new[] { Arg(inv, 0, "dim0"), Arg(inv, 1, "dim1") });
            case "t":
                return Emit(OpKind.Transpose, inv, new[] { X() }, new[] { new OpArg("dim0", "0L", "long", true), new OpArg("dim1", "1L", "long", true) });
            case "permute":
                return Emit(OpKind.Permute, inv, new[] { X() }, new[] { LongArrayArg(inv, "dims") });
            case "expand" or "expand_as" or "broadcast_to":
                return Emit(OpKind.Expand, inv, tensorArgs.Select(t => t.Value).ToArray(), new[] { InShape() });
            case "repeat_interleave":
            {
                var repeats = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == "repeats");
                var dim = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == "dim");
                if (repeats is null || TorchSymbols.IsTensor(repeats.Value.Type) || dim is null || dim.ArgumentKind == ArgumentKind.DefaultValue)
                    return LowerUnknown(inv, "repeat_interleave without an integer repeats and an explicit dim");
                return Emit(OpKind.RepeatInterleave, inv, new[] { X() }, new[] { ValueArg("repeats", repeats, "long"), ValueArg("dim", dim, "long"), InShape() });
            }
            case "index_select":
                if (tensorArgs.Count != 2 || _values[tensorArgs[1].Value].OnPath)
                    return LowerUnknown(inv, "index_select with an index that carries relevance");
                return Emit(OpKind.IndexSelect, inv, new[] { X(), tensorArgs[1].Value }, new[] { Arg(inv, 0, "dim"), InShape() });
            case "select":
                return Emit(OpKind.Select, inv, new[] { X() }, new[] { Arg(inv, 0, "dim"), Arg(inv, 1, "index"), InShape() });
            case "tril" or "triu":
                return Emit(OpKind.Triangle, inv, new[] { X() }, new[] { Arg(inv, 0, "diagonal") }, new TriangleParams(name == "triu"));
            case "where":
                return LowerWhere(inv, tensorArgs);
            case "type_as":
                return Emit(OpKind.ToDtype, inv, new[] { X() }, new[]
                {
                    new OpArg("dtype", $"{XName()}.dtype", "global::TorchSharp.torch.ScalarType", false),
                    new OpArg("device", $"{XName()}.device", "global::TorchSharp.torch.Device", false),
                });
            case "narrow":
                return Emit(OpKind.Narrow, inv, new[] { X() }, new[] { Arg(inv, 0, "dim"), Arg(inv, 1, "start"), Arg(inv, 2, "length"), InShape() });
            case "cat" or "concat" or "concatenate":
                return LowerCat(inv);
            case "chunk" or "split" or "tensor_split":
                return LowerChunk(inv, tensorArgs);
            case "sum" or "mean":
                return LowerReduction(inv, name == "sum" ? OpKind.Sum : OpKind.Mean, X());
            case "matmul" or "bmm" or "mm":
                if (tensorArgs.Count != 2) return LowerUnknown(inv, $"'{name}'");
                return EmitProduct(OpKind.Matmul, inv, tensorArgs[0].Value, tensorArgs[1].Value);
            case "mul" or "multiply":
                if (tensorArgs.Count == 2) return EmitProduct(OpKind.Mul, inv, tensorArgs[0].Value, tensorArgs[1].Value);
                return Emit(OpKind.Scale, inv, new[] { X() }, new[] { ScalarArg("factor", OtherArgument(inv), false) });
            case "div" or "divide" or "true_divide":
                if (tensorArgs.Count == 2) return EmitDiv(inv, tensorArgs[0].Value, tensorArgs[1].Value);
                return Emit(OpKind.Scale, inv, new[] { X() }, new[] { ScalarArg("factor", OtherArgument(inv), true) });
            case "add" or "sub" or "subtract":
                if (inv.Arguments.Any(a => a.Parameter?.Name == "alpha" && a.ArgumentKind != ArgumentKind.DefaultValue))
                    return LowerUnknown(inv, $"{name} with alpha");
                if (tensorArgs.Count == 2)
                    return Emit(OpKind.AddSub, inv, new[] { tensorArgs[0].Value, tensorArgs[1].Value },
                        ShapeArgs(tensorArgs[0].Value, tensorArgs[1].Value), new AddSubParams(name != "add"));
                return Emit(OpKind.Identity, inv, new[] { X() });
            case "neg" or "negative":
                return Emit(OpKind.Negate, inv, new[] { X() });
            case "softmax":
            {
                var dtype = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == "dtype");
                if (dtype is null || dtype.ArgumentKind == ArgumentKind.DefaultValue)
                    return Emit(OpKind.Softmax, inv, new[] { X() }, new[] { Arg(inv, 0, "dim") }, new SoftmaxParams(ConvertsBack: false));
                // Computed in another dtype: the backward converts the gradient back to the scores' dtype.
                return Emit(OpKind.Softmax, inv, new[] { X() }, new[]
                {
                    Arg(inv, 0, "dim"),
                    new OpArg("inputType", $"{XName()}.dtype", "global::TorchSharp.torch.ScalarType", false),
                }, new SoftmaxParams(ConvertsBack: true, ComputeType: $"(global::TorchSharp.torch.ScalarType?)({RenderCode(dtype.Value).Item1})"));
            }
            case "scaled_dot_product_attention":
                return LowerSdpa(inv, tensorArgs);
            case "layer_norm":
                return LowerLayerNormFunctional(inv, tensorArgs);
            case "linear":
                return LowerLinearFunctional(inv, tensorArgs);
            case "masked_fill":
                if (tensorArgs.Count < 2 || _values[tensorArgs[1].Value].OnPath) return LowerUnknown(inv, "masked_fill with a mask that carries relevance");
                return Emit(OpKind.MaskedFill, inv, new[] { tensorArgs[0].Value, tensorArgs[1].Value });
            case "to" or "type" or "@float" or "@double" or "half" or "bfloat16" or "cpu" or "cuda":
                return Emit(OpKind.ToDtype, inv, new[] { X() }, new[]
                {
                    new OpArg("dtype", $"{XName()}.dtype", "global::TorchSharp.torch.ScalarType", false),
                    new OpArg("device", $"{XName()}.device", "global::TorchSharp.torch.Device", false),
                });
            case "rsqrt" or "sqrt":
                return EmitScaleOp(inv, name == "rsqrt" ? OpKind.Rsqrt : OpKind.Sqrt, X(), Array.Empty<OpArg>());
            case "pow" or "square":
            {
                if (name == "pow" && tensorArgs.Count > 1) return LowerUnknown(inv, "pow with a tensor exponent");
                var exponent = name == "square" ? new OpArg("exponent", "2.0", "double", true) : ScalarArg("exponent", OtherArgument(inv), false);
                return EmitScaleOp(inv, OpKind.Pow, X(), new[] { exponent });
            }
            case "detach":
                return Emit(OpKind.Detach, inv, new[] { X() });
            default:
                if (OpTable.IdentityFunctions.TryGetValue(name, out var activation))
                    return EmitActivation(inv, X(), ActivationOf(inv, activation));
                return LowerUnknown(inv, $"'{name}'");
        }
    }

    /// <summary>rsqrt / sqrt / pow: a constant scale inside [NormIdentity]; elsewhere no rule applies.</summary>
    private int EmitScaleOp(IInvocationOperation inv, OpKind kind, int x, OpArg[] args)
    {
        if (!_scope.NormIdentity && _values[x].OnPath)
            return LowerUnknown(inv, $"'{inv.TargetMethod.Name}'",
                "use it inside a helper method marked [NormIdentity] (a normalisation; an RMSNorm is '[NormIdentity] Tensor RmsNorm(Tensor x) => x * x.pow(2).mean(new long[] { -1 }, keepdim: true).add(eps).rsqrt() * weight;', or mark forward itself) or [IdentityNonlinearity] (an element-wise activation)");
        return Emit(kind, inv, new[] { x }, args);
    }

    private List<(int Value, IArgumentOperation? Argument)> TensorArguments(IInvocationOperation inv)
    {
        var result = new List<(int, IArgumentOperation?)>();
        if (inv.Instance is not null && TorchSymbols.IsTensor(inv.Instance.Type)) result.Add((LowerTensor(inv.Instance), null));
        foreach (var arg in inv.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0))
            if (arg.ArgumentKind != ArgumentKind.DefaultValue && TorchSymbols.IsTensor(arg.Value.Type) && !IsNullLiteral(arg.Value))
                result.Add((LowerTensor(arg.Value), arg));
        return result;
    }

    private static IOperation OtherArgument(IInvocationOperation inv) =>
        inv.Arguments.Where(a => a.ArgumentKind != ArgumentKind.DefaultValue && !TorchSymbols.IsTensor(a.Value.Type))
            .Select(a => a.Value).FirstOrDefault() ?? inv;

    /// <summary>The non-tensor argument at a position among the explicit non-tensor ones, or by parameter name.</summary>
    private OpArg Arg(IInvocationOperation inv, int position, string name)
    {
        var byName = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == name);
        var arg = byName ?? inv.Arguments.Where(a => !TorchSymbols.IsTensor(a.Value.Type)).OrderBy(a => a.Parameter?.Ordinal ?? 0).ElementAtOrDefault(position);
        if (arg is null) return new OpArg(name, "0L", "long", true);
        return ValueArg(name, arg, "long");
    }

    private OpArg ValueArg(string name, IArgumentOperation arg, string type)
    {
        if (arg.ArgumentKind == ArgumentKind.DefaultValue)
            return new OpArg(name, Literal(arg.Parameter!.ExplicitDefaultValue, arg.Parameter.Type), type, true);
        var (text, _) = RenderCode(arg.Value);
        return new OpArg(name, $"({type})({text})", type, IsStable(arg.Value));
    }

    private OpArg LongArrayArg(IInvocationOperation inv, string name)
    {
        var parts = new List<string>();
        bool stable = true;
        foreach (var arg in inv.Arguments.Where(a => a.ArgumentKind != ArgumentKind.DefaultValue && !TorchSymbols.IsTensor(a.Value.Type)))
        {
            if (arg.ArgumentKind == ArgumentKind.ParamArray && arg.Value is IArrayCreationOperation { Initializer: { } init })
            {
                foreach (var e in init.ElementValues) { parts.Add($"(long)({Render(e)})"); stable &= IsStable(e); }
                continue;
            }
            var (text, _) = RenderCode(arg.Value);
            if (arg.Value.Type is IArrayTypeSymbol)
                return new OpArg(name, $"global::System.Linq.Enumerable.ToArray(global::System.Linq.Enumerable.Select({text}, d => (long)d))", "long[]", false);
            parts.Add($"(long)({text})");
            stable &= IsStable(arg.Value);
        }
        return new OpArg(name, $"new long[] {{ {string.Join(", ", parts)} }}", "long[]", stable);
    }

    private static string Literal(object? value, ITypeSymbol type)
    {
        if (value is null) return "null";
        if (type.TypeKind == TypeKind.Enum) return $"({Display(type)}){Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)}";
        return value switch
        {
            bool b => b ? "true" : "false",
            double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "d",
            float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f",
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture) + "L",
            _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null",
        };
    }

    private const string ActivationEnum = "global::LrpGen.Rules.Activation";

    /// <summary>The element-wise function's name (shown in the rule comment) and the C# expression of its runtime
    /// <c>Activation</c>: from the op table, except gelu, whose approximation is an argument.</summary>
    private (string Name, string KindExpr) ActivationOf(IInvocationOperation inv, string member)
    {
        if (member != "Gelu") return (member, $"{ActivationEnum}.{member}");
        var approx = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == "approximate");
        if (approx is null || approx.ArgumentKind == ArgumentKind.DefaultValue) return ("Gelu", $"{ActivationEnum}.Gelu");
        var c = approx.Value.ConstantValue;
        if (c.HasValue)
            return Convert.ToInt32(c.Value, System.Globalization.CultureInfo.InvariantCulture) == 0 ? ("Gelu", $"{ActivationEnum}.Gelu") : ("GeluTanh", $"{ActivationEnum}.GeluTanh");
        string text = Render(approx.Value);
        return ("runtime:" + text, $"(({text}) == global::TorchSharp.Modules.GELU.Approximate.none ? {ActivationEnum}.Gelu : {ActivationEnum}.GeluTanh)");
    }

    private int EmitActivation(IOperation op, int x, (string Name, string KindExpr) activation, string? forward = null)
    {
        var args = new[] { new OpArg("kind", activation.KindExpr, ActivationEnum, true) };
        return forward is null
            ? Emit(OpKind.Activation, op, new[] { x }, args, new ElementwiseParams(activation.Name))
            : EmitWithForward(OpKind.Activation, op, new[] { x }, forward, args, new ElementwiseParams(activation.Name));
    }

    private bool HasTensorList(IInvocationOperation inv) =>
        inv.Arguments.Any(a => a.ArgumentKind != ArgumentKind.DefaultValue && CollectionElements(a.Value) is { } elements
                               && elements.Any(e => TorchSymbols.IsTensor(e.Type)));

    private int LowerStack(IInvocationOperation inv)
    {
        var listArg = inv.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0);
        var elements = listArg is null ? null : CollectionElements(listArg.Value);
        if (elements is null) return LowerUnknown(inv, "stack of a tensor list that is not written out ({ a, b, ... })");
        var inputs = elements.Select(LowerTensor).ToArray();
        return Emit(OpKind.Stack, inv, inputs, new[] { Arg(inv, 0, "dim") });
    }

    /// <summary>einsum of one operand (a linear map) or two (a product under the uniform rule); more operands have
    /// no rule (write them as a chain of two-operand einsums).</summary>
    private int LowerEinsum(IInvocationOperation inv)
    {
        var listArg = inv.Arguments.FirstOrDefault(a => CollectionElements(a.Value) is not null);
        var equationArg = inv.Arguments.FirstOrDefault(a => a.Value.Type?.SpecialType == SpecialType.System_String);
        var elements = listArg is null ? null : CollectionElements(listArg.Value);
        if (elements is null || equationArg is null)
            return LowerUnknown(inv, "einsum with operands that are not written out");
        if (elements.Count > 2)
            return LowerUnknown(inv, $"einsum of {elements.Count} operands", "write it as a chain of einsums of two operands, each a product with the uniform rule");
        var inputs = elements.Select(LowerTensor).ToArray();
        var equation = ValueArg("equation", equationArg, "string");
        var args = inputs.Length == 2 ? ShapeArgs(inputs[0], inputs[1]).Prepend(equation).ToArray() : new[] { equation };
        return Emit(OpKind.Einsum, inv, inputs, args);
    }

    /// <summary>where(condition, a, b) (or a.where(condition, b)): a gets the gradient where the condition holds,
    /// b elsewhere; the condition is a constant (a mask).</summary>
    private int LowerWhere(IInvocationOperation inv, List<(int Value, IArgumentOperation? Argument)> tensorArgs)
    {
        if (tensorArgs.Count != 3) return LowerUnknown(inv, "where with a scalar branch", "make the scalar a tensor (torch.full_like) or use masked_fill");
        // Static form: (condition, a, b). Method form: this = a, then (condition, b).
        var (condition, a, b) = inv.Instance is null
            ? (tensorArgs[0].Value, tensorArgs[1].Value, tensorArgs[2].Value)
            : (tensorArgs[1].Value, tensorArgs[0].Value, tensorArgs[2].Value);
        if (_values[condition].OnPath) Report(LrpDiagnostics.RelevanceStops, inv.Syntax.GetLocation(), "the condition of 'where'");
        return Emit(OpKind.Where, inv, new[] { condition, a, b }, new[]
        {
            new OpArg("aShape", $"{_values[a].CName}.shape", "long[]", false),
            new OpArg("bShape", $"{_values[b].CName}.shape", "long[]", false),
        });
    }

    /// <summary>The values of a (values, indices) pair that a torch selection returns (max/min/sort/topk along a
    /// dim): an exact selection adjoint. Other tuple-returning functions have no rule.</summary>
    private int LowerSelection(IInvocationOperation inv)
    {
        string name = inv.TargetMethod.Name;
        if (!TorchSymbols.IsTorchApi(inv.TargetMethod.ContainingType) || !TorchFunctions.Selections.Contains(name))
            return LowerUnknown(inv, $"the values of '{name}'");
        var tensorArgs = TensorArguments(inv);
        if (tensorArgs.Count != 1) return LowerUnknown(inv, $"the values of '{name}' with tensor arguments");
        int x = tensorArgs[0].Value;
        var dimArg = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == "dim");
        var dim = dimArg is null ? new OpArg("dim", "-1L", "long", true) : ValueArg("dim", dimArg, "long");
        return Emit(OpKind.Selection, inv, new[] { x }, new[] { dim, new OpArg("inputShape", $"{_values[x].CName}.shape", "long[]", false) });
    }

    private int LowerCat(IInvocationOperation inv)
    {
        var listArg = inv.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0);
        var elements = listArg is null ? null : CollectionElements(listArg.Value);
        if (elements is null) return LowerUnknown(inv, "cat of a tensor list that is not written out ({ a, b, ... })");
        var inputs = elements.Select(LowerTensor).ToArray();
        var dim = Arg(inv, 0, "dim");
        string sizes = $"global::LrpGen.Rules.Shapes.SizesAlong({dim.Expr}, {string.Join(", ", inputs.Select(i => _values[i].CName))})";
        return Emit(OpKind.Cat, inv, inputs, new[] { dim, new OpArg("sizes", sizes, "long[]", false) });
    }

    private static IReadOnlyList<IOperation>? CollectionElements(IOperation value)
    {
        while (value is IConversionOperation c) value = c.Operand;
        return value switch
        {
            IArrayCreationOperation { Initializer: { } init } => init.ElementValues.ToList(),
            ICollectionExpressionOperation collection => collection.Elements.ToList(),
            _ => null,
        };
    }

    private int LowerChunk(IInvocationOperation inv, List<(int Value, IArgumentOperation? Argument)> tensorArgs)
    {
        if (inv.TargetMethod.Name == "tensor_split") return LowerUnknown(inv, "tensor_split");
        int x = tensorArgs[0].Value;
        var dimArg = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name == "dim");
        var dim = dimArg is null ? new OpArg("dim", "0L", "long", true) : ValueArg("dim", dimArg, "long");
        int id = Emit(OpKind.Chunk, inv, new[] { x }, new[] { dim, new OpArg("inputShape", $"{_values[x].CName}.shape", "long[]", false) });
        return id;
    }

    private int LowerReduction(IInvocationOperation inv, OpKind kind, int x)
    {
        if (inv.Arguments.Any(a => a.Parameter?.Name == "type" && a.ArgumentKind != ArgumentKind.DefaultValue))
            return LowerUnknown(inv, $"{inv.TargetMethod.Name} with a dtype");
        var dims = new List<string>();
        string? dimArray = null;
        bool stable = true;
        string keepdim = "false";
        foreach (var arg in inv.Arguments.Where(a => !TorchSymbols.IsTensor(a.Value.Type)))
        {
            var pname = arg.Parameter?.Name ?? "";
            if (pname == "keepdim")
            {
                var k = ValueArg("keepdim", arg, "bool");
                keepdim = k.Expr;
                stable &= k.Stable;
                continue;
            }
            if (!pname.StartsWith("dim", StringComparison.Ordinal) || arg.ArgumentKind == ArgumentKind.DefaultValue) continue;
            var (text, _) = RenderCode(arg.Value);
            stable &= IsStable(arg.Value);
            if (arg.Value.Type is IArrayTypeSymbol || arg.Value.Type?.Name == "ReadOnlySpan") dimArray = $"global::System.Linq.Enumerable.ToArray({text})";
            else dims.Add($"(long)({text})");
        }
        string dimExpr = dimArray ?? (dims.Count == 0 ? "null" : $"new long[] {{ {string.Join(", ", dims)} }}");
        return Emit(kind, inv, new[] { x }, new[]
        {
            new OpArg("dims", dimExpr, "long[]?", stable && dimArray is null),
            new OpArg("keepdim", keepdim, "bool", stable),
            new OpArg("inputShape", $"{_values[x].CName}.shape", "long[]", false),
        });
    }

    private int LowerLayerNormFunctional(IInvocationOperation inv, List<(int Value, IArgumentOperation? Argument)> tensorArgs)
    {
        int x = tensorArgs[0].Value;
        var weightArg = tensorArgs.FirstOrDefault(t => t.Argument?.Parameter?.Name == "weight");
        if (tensorArgs.Skip(1).Any(t => _values[t.Value].OnPath))
            return LowerUnknown(inv, "layer_norm with a weight or bias that carries relevance");
        var shapeArg = inv.Arguments.First(a => a.Parameter?.Name == "normalized_shape");
        var epsArg = inv.Arguments.First(a => a.Parameter?.Name == "eps");
        var (shapeText, _) = RenderCode(shapeArg.Value);
        // The weight, when given, is the second input (saved for the backward); the bias only shifts.
        return Emit(OpKind.LayerNorm, inv, tensorArgs.Select(t => t.Value).ToArray(), new[]
        {
            new OpArg("weight", weightArg.Argument is null ? "null" : _values[weightArg.Value].CName, "global::TorchSharp.torch.Tensor?", false),
            new OpArg("eps", ValueArg("eps", epsArg, "double").Expr, "double", IsStable(epsArg.Value) || epsArg.ArgumentKind == ArgumentKind.DefaultValue),
            new OpArg("dims", $"global::LrpGen.Rules.LayerNormRule.Dims({shapeText})", "int", IsStable(shapeArg.Value)),
        }, new LayerNormParams(weightArg.Argument is null ? LayerNormWeight.None : LayerNormWeight.SecondInput));
    }

    private int LowerLinearFunctional(IInvocationOperation inv, List<(int Value, IArgumentOperation? Argument)> tensorArgs)
    {
        if (tensorArgs.Count < 2) return LowerUnknown(inv, "'linear'");
        if (tensorArgs.Skip(1).Any(t => _values[t.Value].OnPath))
            return LowerUnknown(inv, "linear with a weight or bias that carries relevance", "detach() the weight, or use a matmul of two relevance-carrying tensors");
        return Emit(OpKind.LinearFunctional, inv, tensorArgs.Select(t => t.Value).ToArray(),
            new[] { new OpArg("weight", _values[tensorArgs[1].Value].CName, "global::TorchSharp.torch.Tensor", false) },
            new LayerRuleParams(_scope.Epsilon ?? 0, _scope.Gamma));
    }

    /// <summary>scaled_dot_product_attention expanded into the operations it computes, each with its rule:
    /// softmax(q k^T / sqrt(d) + bias) v, the bias (mask, causal) a constant.</summary>
    private int LowerSdpa(IInvocationOperation inv, List<(int Value, IArgumentOperation? Argument)> tensorArgs)
    {
        int Tensor(string name) => tensorArgs.FirstOrDefault(t => t.Argument?.Parameter?.Name == name).Argument is null ? -1
            : tensorArgs.First(t => t.Argument?.Parameter?.Name == name).Value;
        int q = Tensor("query"), k = Tensor("key"), v = Tensor("value"), mask = Tensor("attn_mask");
        if (q < 0 || k < 0 || v < 0) return Fail(inv, "scaled_dot_product_attention without query, key and value");
        if (mask >= 0 && _values[mask].OnPath) return LowerUnknown(inv, "an attention mask that carries relevance");
        var causalArg = inv.Arguments.FirstOrDefault(a => a.Parameter?.Name is "is_casual" or "is_causal");
        string causal = causalArg is null || causalArg.ArgumentKind == ArgumentKind.DefaultValue ? "false" : Render(causalArg.Value);
        string N(int id) => _values[id].CName;

        int kt = EmitWithForward(OpKind.Transpose, inv, new[] { k }, $"{N(k)}.transpose(-2, -1)",
            new[] { new OpArg("dim0", "-2L", "long", true), new OpArg("dim1", "-1L", "long", true) });
        int scores = EmitProduct(OpKind.Matmul, inv, q, kt, $"{N(q)}.matmul({N(kt)})");
        string factor = $"1.0 / global::System.Math.Sqrt({N(q)}.shape[{N(q)}.shape.Length - 1])";
        int scaled = EmitWithForward(OpKind.Scale, inv, new[] { scores }, $"{N(scores)} * ({factor})",
            new[] { new OpArg("factor", factor, "double", false) });
        var biasInputs = mask >= 0 ? new[] { q, k, mask } : new[] { q, k };
        var bias = NewValue("bias" + _values.Count, owned: true);
        AppendOp(OpKind.Constant, inv, biasInputs, $"global::LrpGen.Rules.AttentionBias.For({N(q)}, {N(k)}, {(mask >= 0 ? N(mask) : "null")}, {causal})", bias, Array.Empty<OpArg>(),
            new SdpaBiasParams(mask, causal));
        int biased = EmitWithForward(OpKind.AddSub, inv, new[] { scaled, bias.Id }, $"{N(scaled)} + {bias.CName}", ShapeArgs(scaled, bias.Id), new AddSubParams(Subtract: false));
        int probs = EmitWithForward(OpKind.Softmax, inv, new[] { biased }, $"{N(biased)}.softmax(-1)",
            new[] { new OpArg("dim", "-1L", "long", true) }, new SoftmaxParams(ConvertsBack: false));
        return EmitProduct(OpKind.Matmul, inv, probs, v, $"{N(probs)}.matmul({N(v)})");
    }

    // ---------------------------------------------------------------- submodule calls

    /// <summary>The point of the submodule call being lowered: its member name and index expression.</summary>
    private (string Name, string Index) _pendingPoint = ("", "");

    /// <summary>foreach variables over module lists: the list's member name and the iteration counter.</summary>
    private readonly Dictionary<ISymbol, (string Member, string Counter)> _moduleLoopVariables = new(SymbolEqualityComparer.Default);

    /// <summary>Names a submodule call for latent relevance: "fc" for a field, "layers" + index for list elements.</summary>
    private (string Name, string Index) PointOf(IOperation receiver)
    {
        switch (receiver)
        {
            case IFieldReferenceOperation { Instance: null or IInstanceReferenceOperation } f:
                return (f.Field.Name, "");
            case IPropertyReferenceOperation { Property.IsIndexer: false, Instance: null or IInstanceReferenceOperation } p:
                return (p.Property.Name, "");
            case IPropertyReferenceOperation { Property.IsIndexer: true, Instance: IMemberReferenceOperation list } indexer when indexer.Arguments.Length == 1:
                return (list.Member.Name, $"(long)({Render(indexer.Arguments[0].Value)})");
            case ILocalReferenceOperation local when _moduleLoopVariables.TryGetValue(local.Local, out var loop):
                return (loop.Member, loop.Counter);
            case IConversionOperation c:
                return PointOf(c.Operand);
            default:
                return (string.Join("", Render(receiver).Where(ch => char.IsLetterOrDigit(ch) || ch == '_' || ch == '.')), "");
        }
    }

    private int LowerModuleCall(IInvocationOperation inv)
    {
        var saved = _pendingPoint;
        try
        {
            _pendingPoint = PointOf(inv.Instance!);
            return LowerModuleCallCore(inv);
        }
        finally
        {
            _pendingPoint = saved;
        }
    }

    private int LowerModuleCallCore(IInvocationOperation inv)
    {
        var receiver = inv.Instance!;
        var type = receiver.Type!;
        var (receiverText, _) = RenderCode(receiver);
        var moduleArg = new OpArg("module", receiverText, Display(type), IsStable(receiver));
        var args = inv.Arguments.OrderBy(a => a.Parameter?.Ordinal ?? 0).ToList();
        var tensorArgs = args.Where(a => TorchSymbols.IsTensor(a.Value.Type)).ToList();
        ISymbol? member = receiver switch
        {
            IFieldReferenceOperation f => f.Field,
            IPropertyReferenceOperation { Property.IsIndexer: false } p => p.Property,
            _ => null,
        };
        string memberName = member?.Name ?? receiverText;

        if (TorchSymbols.IsLrpModule(type))
        {
            if (type is INamedTypeSymbol { IsGenericType: true })
                return Fail(inv, $"calling the generic [LrpModule] '{type.Name}'");
            var inputs = tensorArgs.Select(a => LowerTensor(a.Value)).ToArray();
            var paramIndices = tensorArgs.Select(a => a.Parameter?.Ordinal ?? 0).ToArray();
            var childForward = type.GetMembers("forward").OfType<IMethodSymbol>().FirstOrDefault(m => !m.IsStatic && m.DeclaringSyntaxReferences.Length > 0);
            for (int i = 0; i < inputs.Length; i++)
            {
                var childParameter = childForward is not null && paramIndices[i] < childForward.Parameters.Length ? childForward.Parameters[paramIndices[i]] : null;
                if (childParameter is not null && _values[inputs[i]].OnPath && TorchSymbols.FindAttribute(childParameter, "NoRelevanceAttribute") is not null)
                    Report(LrpDiagnostics.RelevanceIntoNoRelevance, tensorArgs[i].Syntax.GetLocation(), FirstLine(tensorArgs[i].Value.Syntax), childParameter.Name, type.Name);
            }
            var rendered = args.Where(a => a.ArgumentKind != ArgumentKind.DefaultValue).Select(a => TorchSymbols.IsTensor(a.Value.Type) ? _values[LowerTensor(a.Value)].CName : Render(a.Value));
            // A call whose arguments are all tensors can be recomputed in the backward (memory-saving mode).
            bool recomputable = args.All(a => a.ArgumentKind != ArgumentKind.DefaultValue && TorchSymbols.IsTensor(a.Value.Type));
            return EmitWithForward(OpKind.Child, inv, inputs, string.Join(", ", rendered), new[] { moduleArg },
                new ChildParams(Display(type), recomputable), paramIndices);
        }

        string? builtin = TorchSymbols.BuiltinModuleName(type);
        var rule = BuiltinModules.RuleOf(builtin);
        if (rule is null) return ReportSubmodule(inv, memberName, type);
        if (tensorArgs.Count != 1 || args.Count != 1)
            return Fail(inv, $"calling the {builtin} '{memberName}' with {args.Count} arguments");
        int x = LowerTensor(tensorArgs[0].Value);
        string xName = _values[x].CName;
        var epsilonAttr = member is null ? null : TorchSymbols.FindAttribute(member, "EpsilonRuleAttribute");
        var gammaAttr = member is null ? null : TorchSymbols.FindAttribute(member, "GammaRuleAttribute");

        switch (rule)
        {
            case BuiltinRule.Linear:
            {
                double eps = TorchSymbols.DoubleArgument(epsilonAttr) ?? _scope.Epsilon ?? 0;
                double? gamma = TorchSymbols.DoubleArgument(gammaAttr) ?? (epsilonAttr is null ? _scope.Gamma : null);
                return EmitWithForward(OpKind.Linear, inv, new[] { x }, $"{receiverText}.forward({xName})", new[] { moduleArg }, new LayerRuleParams(eps, gamma));
            }
            case BuiltinRule.Conv2d:
            {
                double eps = TorchSymbols.DoubleArgument(epsilonAttr) ?? _scope.Epsilon ?? 0;
                double? gamma = TorchSymbols.DoubleArgument(gammaAttr) ?? (epsilonAttr is null ? _scope.Gamma : null);
                return EmitWithForward(OpKind.Conv2d, inv, new[] { x }, $"{receiverText}.forward({xName})",
                    new[] { moduleArg, new OpArg("inputShape", $"{xName}.shape", "long[]", false) }, new LayerRuleParams(eps, gamma));
            }
            case BuiltinRule.Sequential:
                // The children are known at run time only: SequentialRule dispatches each to its rule.
                return EmitWithForward(OpKind.Sequential, inv, new[] { x }, xName, new[] { moduleArg });
            case BuiltinRule.Embedding:
            {
                MarkTokenIds(x);
                var id = EmitWithForward(OpKind.Embedding, inv, new[] { x }, $"{receiverText}.forward({xName})", new[] { moduleArg });
                return id;
            }
            case BuiltinRule.LayerNorm:
                return EmitWithForward(OpKind.LayerNorm, inv, new[] { x }, $"{receiverText}.forward({xName})", new[]
                {
                    new OpArg("weight", $"{receiverText}.weight", "global::TorchSharp.torch.Tensor?", moduleArg.Stable),
                    new OpArg("eps", $"{receiverText}.eps", "double", moduleArg.Stable),
                    new OpArg("dims", $"{receiverText}.normalized_shape.Length", "int", moduleArg.Stable),
                }, new LayerNormParams(LayerNormWeight.ModuleMember));
            case BuiltinRule.Identity:
                return EmitWithForward(OpKind.Identity, inv, new[] { x }, $"{xName}.alias()");
            case BuiltinRule.Activation:
                return EmitActivation(inv, x, (builtin!, $"global::LrpGen.Rules.ActivationRule.KindOf({receiverText})"), $"{receiverText}.forward({xName})");
            default:
                return ReportSubmodule(inv, memberName, type);
        }
    }

    private int ReportSubmodule(IOperation op, string member, ITypeSymbol type)
    {
        if (TorchSymbols.BuiltinModuleName(type) == "MultiheadAttention")
        {
            Report(LrpDiagnostics.UnsupportedSubmodule, op.Syntax.GetLocation(), member, "MultiheadAttention",
                ": write the attention with Linear layers, matmul and softmax in an [LrpModule], so each product gets its rule");
            return EmitPoison(op, ReadsPath(op));
        }
        Report(LrpDiagnostics.UnsupportedSubmodule, op.Syntax.GetLocation(), member, type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat), "");
        return EmitPoison(op, ReadsPath(op));
    }

    // ---------------------------------------------------------------- helper methods

    private int LowerHelper(IInvocationOperation inv)
    {
        var method = inv.TargetMethod;
        if (!TorchSymbols.IsTensor(method.ReturnType))
            return LowerUnknown(inv, $"the helper '{method.Name}' (it does not return a Tensor)");
        var syntax = method.DeclaringSyntaxReferences[0].GetSyntax() as MethodDeclarationSyntax;
        if (syntax is null || (syntax.Body is null && syntax.ExpressionBody is null))
            return Fail(inv, $"the helper '{method.Name}' has no body in source");
        string key = method.ToDisplayString();
        if (_inlineStack.Contains(key)) return Fail(inv, $"the recursive helper '{method.Name}'");

        if (TorchSymbols.FindAttribute(method, "IdentityNonlinearityAttribute") is not null)
            return LowerElementwiseHelper(inv);

        var semantic = syntax.SyntaxTree == _semantic.SyntaxTree ? _semantic : _semantic.Compilation.GetSemanticModel(syntax.SyntaxTree);
        var bodyOp = syntax.Body is not null ? semantic.GetOperation(syntax.Body) : semantic.GetOperation(syntax.ExpressionBody!.Expression);
        if (bodyOp is null) return Fail(inv, $"the helper '{method.Name}' could not be analysed");

        var newEnv = new Dictionary<ISymbol, Binding>(SymbolEqualityComparer.Default);
        foreach (var arg in inv.Arguments)
        {
            var p = arg.Parameter!;
            if (TorchSymbols.IsTensor(p.Type))
                newEnv[p] = new Binding { Value = arg.ArgumentKind == ArgumentKind.DefaultValue ? EmitNullTensor(inv) : LowerTensor(arg.Value) };
            else if (arg.ArgumentKind == ArgumentKind.DefaultValue)
                newEnv[p] = new Binding { Text = Literal(p.ExplicitDefaultValue, p.Type) };
            else
                newEnv[p] = new Binding { Text = "(" + Render(arg.Value) + ")" };
        }

        var outerEnv = _env;
        var outerScope = _scope;
        var outerMemo = _memo;
        var outerSuffix = _nameSuffix;
        _env = newEnv;
        _memo = new Dictionary<IOperation, int>();
        _scope = ScopeFor(method, outerScope);
        bool foreign = !SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, _class.OriginalDefinition);
        if (foreign) _foreignHelperDepth++;
        _nameSuffix = "_" + method.Name + (++_inlineCount).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _inlineStack.Add(key);
        try
        {
            if (syntax.ExpressionBody is not null) return LowerTensor(bodyOp);
            var statements = ((IBlockOperation)bodyOp).Operations;
            if (statements.Length == 0 || statements[statements.Length - 1] is not IReturnOperation { ReturnedValue: { } returned })
                return Fail(inv, $"the helper '{method.Name}' must end with 'return <tensor>;'");
            for (int i = 0; i < statements.Length - 1; i++)
            {
                if (statements[i] is IReturnOperation or IForEachLoopOperation or IForLoopOperation or IConditionalOperation)
                {
                    Report(LrpDiagnostics.UnsupportedConstruct, statements[i].Syntax.GetLocation(), $"control flow inside the helper '{method.Name}' (move it into forward)");
                    continue;
                }
                LowerStatement(statements[i]);
            }
            return LowerTensor(returned);
        }
        finally
        {
            _inlineStack.Remove(key);
            if (foreign) _foreignHelperDepth--;
            _env = outerEnv;
            _scope = outerScope;
            _memo = outerMemo;
            _nameSuffix = outerSuffix;
        }
    }

    private int EmitNullTensor(IOperation op) => Fail(op, "a tensor parameter of a helper left to its default value");

    internal static RuleScope ScopeFor(IMethodSymbol method, RuleScope outer)
    {
        bool cp = outer.CpForced || TorchSymbols.FindAttribute(method, "CpLrpAttribute") is not null;
        bool norm = outer.NormIdentity || TorchSymbols.FindAttribute(method, "NormIdentityAttribute") is not null;
        double? eps = TorchSymbols.DoubleArgument(TorchSymbols.FindAttribute(method, "EpsilonRuleAttribute")) ?? outer.Epsilon;
        double? gamma = TorchSymbols.DoubleArgument(TorchSymbols.FindAttribute(method, "GammaRuleAttribute")) ?? outer.Gamma;
        bool plain = outer.PlainGradient || TorchSymbols.FindAttribute(method, "PlainGradientAttribute") is not null;
        return new RuleScope(cp, norm, eps, gamma, method.Name, plain);
    }

    /// <summary>A helper marked [IdentityNonlinearity]: one element-wise function under the identity rule.</summary>
    private int LowerElementwiseHelper(IInvocationOperation inv)
    {
        var method = inv.TargetMethod;
        var args = inv.Arguments.OrderBy(a => a.Parameter!.Ordinal).ToList();
        var tensorArgs = args.Where(a => TorchSymbols.IsTensor(a.Value.Type)).ToList();
        if (tensorArgs.Count != 1)
            return Fail(inv, $"the [IdentityNonlinearity] helper '{method.Name}' must take exactly one tensor");
        int x = LowerTensor(tensorArgs[0].Value);
        var lambdaArgs = new List<string>();
        var callArgs = new List<string>();
        foreach (var a in args)
        {
            if (a.ArgumentKind == ArgumentKind.DefaultValue) continue;
            bool isTensor = TorchSymbols.IsTensor(a.Value.Type);
            string text = isTensor ? _values[x].CName : Render(a.Value);
            callArgs.Add(text);
            lambdaArgs.Add(isTensor ? _prefix + "v__" : text);
        }
        string target = !method.IsStatic ? "this." + method.Name
            : SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, _class.OriginalDefinition) ? method.Name
            : Display(method.ContainingType!) + "." + method.Name;
        if (!_semantic.Compilation.IsSymbolAccessibleWithin(method, _class))
            return Fail(inv, $"the [IdentityNonlinearity] helper '{method.Name}' is not accessible from '{_class.Name}' (make it internal or public)");
        string forward = $"{target}({string.Join(", ", callArgs)})";
        string lambda = $"{_prefix}v__ => {target}({string.Join(", ", lambdaArgs)})";
        return EmitWithForward(OpKind.CustomElementwise, inv, new[] { x }, forward,
            new[] { new OpArg("function", lambda, "global::System.Func<global::TorchSharp.torch.Tensor, global::TorchSharp.torch.Tensor>", false) },
            new ElementwiseParams(method.Name));
    }
}
