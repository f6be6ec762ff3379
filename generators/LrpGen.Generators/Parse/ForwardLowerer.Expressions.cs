using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Generators.Diagnostics;
using LrpGen.Generators.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace LrpGen.Generators.Parse;

internal sealed partial class ForwardLowerer
{
    private List<int>? _uses;

    // ---------------------------------------------------------------- rendering

    /// <summary>The C# text of an expression with tensor sub-expressions replaced by the variables holding
    /// their values and renamed locals substituted. Tensor values it reads are added to the current use list.</summary>
    private string Render(IOperation root) => RenderCore(root, rootIsTensorOp: false);

    /// <summary>Renders a non-tensor expression and returns the tensor values it reads.</summary>
    private (string Text, EquatableArray<int> Uses) RenderCode(IOperation root)
    {
        var saved = _uses;
        _uses = new List<int>();
        var text = Render(root);
        var uses = _uses.Distinct().ToEquatable();
        _uses = saved;
        saved?.AddRange(uses);
        return (text, uses);
    }

    private EquatableArray<int> UsesOf(IOperation root) => RenderCode(root).Uses;

    private string RenderCore(IOperation root, bool rootIsTensorOp, IReadOnlyDictionary<IOperation, string>? overrides = null)
    {
        var replacements = new List<(TextSpan Span, string Text)>();
        var rootSpan = root.Syntax.Span;

        void Visit(IOperation op)
        {
            if (overrides is not null && overrides.TryGetValue(op, out var forced))
            {
                replacements.Add((op.Syntax.Span, forced));
                return;
            }
            bool isRoot = ReferenceEquals(op, root);
            if (IsNullLiteral(op)) return; // a null tensor argument (no mask) stays as written
            bool isTensorList = op is IArrayCreationOperation or ICollectionExpressionOperation or IArrayInitializerOperation;
            if (!(isRoot && rootIsTensorOp) && !isTensorList && (TorchSymbols.IsTensor(op.Type) || TorchSymbols.IsTensorArray(op.Type)) && op.Syntax.Span != default)
            {
                int v = LowerTensor(op);
                _uses?.Add(v);
                replacements.Add((op.Syntax.Span, _values[v].CName));
                return;
            }
            switch (op)
            {
                // A static member of another class named by its simple name (in a shared helper's body): qualified, so
                // the generated code in the module class finds it.
                case IMemberReferenceOperation { Instance: null, Member: { IsStatic: true } member }
                    when _foreignHelperDepth > 0 && op.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax && IsForeign(member):
                    replacements.Add((op.Syntax.Span, Qualified(member, op.Syntax)));
                    return;
                case IInvocationOperation { Instance: null, TargetMethod: { IsStatic: true } method, Syntax: Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax
                    { Expression: Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax name } } when _foreignHelperDepth > 0 && IsForeign(method):
                    replacements.Add((name.Span, Qualified(method, name)));
                    break;
                case ILocalReferenceOperation lr when _env.TryGetValue(lr.Local, out var b) && b.Text is not null:
                    if (b.Text != lr.Local.Name) replacements.Add((op.Syntax.Span, b.Text));
                    return;
                case IParameterReferenceOperation pr when _env.TryGetValue(pr.Parameter, out var b) && b.Text is not null:
                    if (b.Text != pr.Parameter.Name) replacements.Add((op.Syntax.Span, b.Text));
                    return;
                case IArgumentOperation { ArgumentKind: ArgumentKind.DefaultValue }:
                    return;
            }
            foreach (var child in op.ChildOperations)
            {
                if (child.Syntax is null || child.IsImplicit && child.Syntax.Span == op.Syntax.Span && child is not IConversionOperation && child is not IArrayCreationOperation)
                {
                    // Implicit nodes that share the parent's syntax (default arguments) have nothing to render.
                    if (child is IArgumentOperation { ArgumentKind: ArgumentKind.DefaultValue }) continue;
                }
                if (!rootSpan.Contains(child.Syntax!.Span)) continue;
                Visit(child);
            }
        }

        Visit(root);
        return Apply(root.Syntax, replacements);
    }

    /// <summary>How many helpers of other classes are being inlined (their bodies name their own class's members simply).</summary>
    private int _foreignHelperDepth;

    /// <summary>A static member declared outside the module class (and its containing types).</summary>
    private bool IsForeign(ISymbol member)
    {
        for (var t = _class; t is not null; t = t.ContainingType)
            if (SymbolEqualityComparer.Default.Equals(member.ContainingType?.OriginalDefinition, t.OriginalDefinition)) return false;
        return member.ContainingType is not null && !member.ContainingType.IsImplicitlyDeclared;
    }

    /// <summary>The member's qualified name; inlined into the module class, it must be accessible there.</summary>
    private string Qualified(ISymbol member, SyntaxNode at)
    {
        if (!_semantic.Compilation.IsSymbolAccessibleWithin(member, _class))
            Report(LrpDiagnostics.UnsupportedConstruct, at.GetLocation(),
                $"'{member.ContainingType!.Name}.{member.Name}' in an inlined helper is not accessible from '{_class.Name}' (make it internal or public)");
        return Display(member.ContainingType!) + "." + member.Name;
    }

    private static string Apply(SyntaxNode node, List<(TextSpan Span, string Text)> replacements)
    {
        var text = node.ToString();
        int origin = node.Span.Start;
        var sb = new System.Text.StringBuilder();
        int at = 0;
        foreach (var (span, replacement) in replacements.Where(r => r.Span.Length > 0).OrderBy(r => r.Span.Start))
        {
            int start = span.Start - origin;
            if (start < at) continue; // nested inside an earlier replacement
            sb.Append(text, at, start - at);
            sb.Append(replacement);
            at = start + span.Length;
        }
        sb.Append(text, at, text.Length - at);
        return sb.ToString();
    }

    // ---------------------------------------------------------------- tensor expressions

    /// <summary>Lowers a tensor-valued expression to an SSA value, emitting the operations it needs.</summary>
    private int LowerTensor(IOperation op)
    {
        if (op is ILocalReferenceOperation or IParameterReferenceOperation) return LowerTensorCore(op);
        if (op is IConversionOperation c && (TorchSymbols.IsTensor(c.Operand.Type) || TorchSymbols.IsTensorArray(c.Operand.Type)))
            return LowerTensorCore(op);
        if (_memo.TryGetValue(op, out var known)) return known;
        int v = LowerTensorCore(op);
        _memo[op] = v;
        return v;
    }

    /// <summary>Each expression node is lowered once per lowering of its statement; renders reuse the value.</summary>
    private Dictionary<IOperation, int> _memo = new();

    /// <summary>null (or default) where a tensor is expected: an absent optional argument.</summary>
    private static bool IsNullLiteral(IOperation op) => op.ConstantValue is { HasValue: true, Value: null };

    private int LowerTensorCore(IOperation op)
    {
        if (IsNullLiteral(op)) return NullValue();
        switch (op)
        {
            case IConversionOperation conversion when TorchSymbols.IsTensor(conversion.Operand.Type) || TorchSymbols.IsTensorArray(conversion.Operand.Type):
                return LowerTensor(conversion.Operand);
            case IConversionOperation scalar:
            {
                // A number converted to a tensor (an argument like scatter's src): a constant made explicit.
                var (text, uses) = RenderCode(scalar.Operand);
                var constant = NewValue("t" + _values.Count, owned: true);
                return AppendOp(OpKind.Constant, op, uses.ToArray(), $"(({Display(scalar.Type!)})({text}))", constant, Array.Empty<OpArg>());
            }
            case ILocalReferenceOperation lr:
                if (_env.TryGetValue(lr.Local, out var lb) && lb.Value >= 0) return lb.Value;
                return Fail(op, $"the tensor local '{lr.Local.Name}' is used before it has a value");
            case IParameterReferenceOperation pr:
                if (_env.TryGetValue(pr.Parameter, out var pb) && pb.Value >= 0) return pb.Value;
                return Fail(op, $"the parameter '{pr.Parameter.Name}'");
            case IInvocationOperation invocation:
                return LowerInvocation(invocation);
            case IBinaryOperation binary:
                return LowerBinary(binary);
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus } unary:
                return Emit(OpKind.Negate, op, new[] { LowerTensor(unary.Operand) });
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Plus } plus:
                return LowerTensor(plus.Operand);
            case IPropertyReferenceOperation { Property.IsIndexer: true } indexer when indexer.Instance is not null && TorchSymbols.IsTensor(indexer.Instance.Type):
                return LowerIndexer(indexer);
            case IArrayElementReferenceOperation element when TorchSymbols.IsTensorArray(element.ArrayReference.Type):
                return LowerElement(element);
            case IConditionalOperation conditional:
                return LowerSelect(conditional);
            case IFieldReferenceOperation or IPropertyReferenceOperation:
            {
                var member = (IMemberReferenceOperation)op;
                if (member.Instance is not null && TorchSymbols.IsTensor(member.Instance.Type))
                {
                    if (member.Member.Name == "mT")
                        return Emit(OpKind.Transpose, op, new[] { LowerTensor(member.Instance) },
                            new[] { new OpArg("dim0", "-2L", "long", true), new OpArg("dim1", "-1L", "long", true) });
                    return LowerUnknown(op, $"the tensor property '{member.Member.Name}'");
                }
                if (member.Instance is IInvocationOperation { Type.IsTupleType: true } call)
                    return TupleElementIndex(member) == 0 ? LowerSelection(call) : EmitSelectionIndices(op, call);
                // A member of an object forward computed from relevance-carrying tensors has no rule.
                if (!IsModuleState(member) && ReadsPath(op))
                    return LowerUnknown(op, $"'{FirstLine(op.Syntax)}'");
                // A tensor held by the module or an object of its configuration (a buffer, a weight): borrowed, off
                // the relevance path, never disposed by the pass.
                return EmitConstant(op, owned: false);
            }
            default:
                return LowerUnknown(op, $"'{FirstLine(op.Syntax)}'");
        }
    }

    /// <summary>An operation with no rule: fine off the path (computed as a constant), an error on it.</summary>
    private int LowerUnknown(IOperation op, string what, string? hint = null)
    {
        var before = _uses;
        var (_, uses) = PeekTensorInputs(op);
        if (uses.Any(v => _values[v].OnPath))
        {
            Report(LrpDiagnostics.NoRule, op.Syntax.GetLocation(), what,
                hint ?? "use an operation with a rule, put it in a helper method marked [IdentityNonlinearity] (element-wise) or [NormIdentity] (normalisation), or detach() its input");
            return EmitPoison(op, onPath: true);
        }
        _uses = before;
        return EmitConstant(op, owned: true);
    }

    /// <summary>Members reached from the module itself (fields, buffers, weights of submodules, configuration
    /// objects): state, not values computed by forward.</summary>
    private static bool IsModuleState(IMemberReferenceOperation member) => member.Instance switch
    {
        null or IInstanceReferenceOperation => true,
        var instance when TorchSymbols.IsModule(instance.Type) => true,
        IMemberReferenceOperation outer when !TorchSymbols.IsTensor(outer.Type) => IsModuleState(outer),
        IConversionOperation { Operand: IMemberReferenceOperation outer } => IsModuleState(outer),
        _ => false,
    };

    /// <summary>0 for the first element of a tuple (Item1 or its name), 1 for the second, ...</summary>
    private static int TupleElementIndex(IMemberReferenceOperation member)
    {
        var field = member.Member as IFieldSymbol;
        string name = field?.CorrespondingTupleField?.Name ?? member.Member.Name;
        return name.StartsWith("Item", StringComparison.Ordinal) && int.TryParse(name.Substring(4), out int i) ? i - 1 : -1;
    }

    /// <summary>The indices of a (values, indices) pair: integers, a constant (no relevance flows into indices).</summary>
    private int EmitSelectionIndices(IOperation op, IInvocationOperation call)
    {
        if (!TorchSymbols.IsTorchApi(call.TargetMethod.ContainingType) || !TorchFunctions.Selections.Contains(call.TargetMethod.Name))
            return LowerUnknown(op, $"'{FirstLine(op.Syntax)}'");
        var (text, uses) = PeekTensorInputs(call);
        var output = NewValue("t" + _values.Count, owned: true);
        return AppendOp(OpKind.Constant, op, uses.Distinct().ToArray(), $"global::LrpGen.Rules.SelectionAdjoint.Indices({text})", output, Array.Empty<OpArg>());
    }

    /// <summary>A piecewise-constant function (comparison, argmax, sign): a constant; relevance reaching it stops
    /// there, which is reported as a warning (detach() the input to say it is meant).</summary>
    private int LowerZeroGradient(IOperation op, string what)
    {
        var (_, uses) = PeekTensorInputs(op);
        // Under [PlainGradient] (a router's top-k) the zero gradient is what was asked for: no warning.
        if (!_scope.PlainGradient && uses.Any(v => _values[v].OnPath))
            Report(LrpDiagnostics.RelevanceStops, op.Syntax.GetLocation(), what);
        return EmitConstant(op, owned: true);
    }

    private static string OperatorText(SyntaxNode syntax) =>
        syntax is Microsoft.CodeAnalysis.CSharp.Syntax.BinaryExpressionSyntax b ? b.OperatorToken.Text : syntax.Kind().ToString();

    /// <summary>The tensor values an expression reads, lowering them (they are computed in the forward anyway).</summary>
    private (string Text, List<int> Uses) PeekTensorInputs(IOperation op)
    {
        var saved = _uses;
        _uses = new List<int>();
        var text = RenderCore(op, rootIsTensorOp: true);
        var uses = _uses;
        _uses = saved;
        return (text, uses);
    }

    private int EmitConstant(IOperation op, bool owned)
    {
        var (text, uses) = PeekTensorInputs(op);
        var output = NewValue("t" + _values.Count, owned);
        output.OnPath = output.OnPathUnderRules = false;
        output.IsArray = TorchSymbols.IsTensorArray(op.Type);
        return AppendOp(OpKind.Constant, op, uses.Distinct().ToArray(), text, output, Array.Empty<OpArg>());
    }

    private int _nullValue = -1;

    /// <summary>The value "null": borrowed, never disposed, off the relevance path.</summary>
    private int NullValue()
    {
        if (_nullValue >= 0) return _nullValue;
        var v = NewValue("t" + _values.Count, owned: false);
        v.CName = "null";
        return _nullValue = v.Id;
    }

    /// <summary>The value of a rejected expression (the class gets no pass). It stays on the relevance path when its
    /// inputs were, so that later operations without a rule are reported in the same build.</summary>
    private int EmitPoison(IOperation op, bool onPath)
    {
        var output = NewValue("t" + _values.Count, owned: true);
        output.OnPath = output.OnPathUnderRules = onPath;
        return output.Id;
    }

    private int Fail(IOperation op, string what)
    {
        Report(LrpDiagnostics.UnsupportedConstruct, op.Syntax.GetLocation(), what);
        return EmitPoison(op, ReadsPath(op));
    }

    /// <summary>Whether an expression reads a tensor that carries relevance (without lowering it).</summary>
    private bool ReadsPath(IOperation op)
    {
        foreach (var d in op.DescendantsAndSelf())
        {
            int v = d switch
            {
                ILocalReferenceOperation lr when _env.TryGetValue(lr.Local, out var b) => b.Value,
                IParameterReferenceOperation pr when _env.TryGetValue(pr.Parameter, out var b) => b.Value,
                _ => _memo.TryGetValue(d, out var known) ? known : -1,
            };
            if (v >= 0 && _values[v].OnPath) return true;
        }
        return false;
    }

    private int LowerBinary(IBinaryOperation binary)
    {
        bool leftTensor = TorchSymbols.IsTensor(binary.LeftOperand.Type);
        bool rightTensor = TorchSymbols.IsTensor(binary.RightOperand.Type);
        switch (binary.OperatorKind)
        {
            case BinaryOperatorKind.Add:
            case BinaryOperatorKind.Subtract:
            {
                bool subtract = binary.OperatorKind == BinaryOperatorKind.Subtract;
                if (leftTensor && rightTensor)
                {
                    int a = LowerTensor(binary.LeftOperand), b = LowerTensor(binary.RightOperand);
                    return Emit(OpKind.AddSub, binary, new[] { a, b }, parameters: new AddSubParams(subtract),
                        args: ShapeArgs(a, b));
                }
                if (leftTensor)
                    return Emit(OpKind.Identity, binary, new[] { LowerTensor(binary.LeftOperand) });
                int only = LowerTensor(binary.RightOperand);
                return Emit(subtract ? OpKind.Negate : OpKind.Identity, binary, new[] { only });
            }
            case BinaryOperatorKind.Multiply:
            {
                if (leftTensor && rightTensor)
                {
                    int a = LowerTensor(binary.LeftOperand), b = LowerTensor(binary.RightOperand);
                    return EmitProduct(OpKind.Mul, binary, a, b);
                }
                var tensorSide = leftTensor ? binary.LeftOperand : binary.RightOperand;
                var scalarSide = leftTensor ? binary.RightOperand : binary.LeftOperand;
                int x = LowerTensor(tensorSide);
                return Emit(OpKind.Scale, binary, new[] { x }, args: new[] { ScalarArg("factor", scalarSide, reciprocal: false) });
            }
            case BinaryOperatorKind.Divide:
            {
                if (leftTensor && rightTensor)
                {
                    int a = LowerTensor(binary.LeftOperand), b = LowerTensor(binary.RightOperand);
                    return EmitDiv(binary, a, b);
                }
                if (leftTensor)
                {
                    int x = LowerTensor(binary.LeftOperand);
                    return Emit(OpKind.Scale, binary, new[] { x }, args: new[] { ScalarArg("factor", binary.RightOperand, reciprocal: true) });
                }
                return LowerUnknown(binary, "a scalar divided by a tensor", "write it as a helper marked [IdentityNonlinearity] or inside a [NormIdentity] helper");
            }
            case BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals or BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual
                or BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual or BinaryOperatorKind.And or BinaryOperatorKind.Or
                or BinaryOperatorKind.ExclusiveOr:
                // Comparisons and logical operators give masks: zero gradient, as their function forms (gt, logical_and).
                return LowerZeroGradient(binary, $"the operator '{OperatorText(binary.Syntax)}'");
            default:
                return LowerUnknown(binary, $"the operator '{OperatorText(binary.Syntax)}'");
        }
    }

    private int LowerCompound(ICompoundAssignmentOperation compound)
    {
        // h += x  ==  h = h + x, with the same rules.
        int a = LowerTensor(compound.Target);
        bool rightTensor = TorchSymbols.IsTensor(compound.Value.Type);
        string op = compound.OperatorKind switch
        {
            BinaryOperatorKind.Add => "+",
            BinaryOperatorKind.Subtract => "-",
            BinaryOperatorKind.Multiply => "*",
            BinaryOperatorKind.Divide => "/",
            _ => "",
        };
        if (op.Length == 0) return Fail(compound, $"the compound operator '{compound.OperatorKind}'");
        var rhsText = rightTensor ? _values[LowerTensor(compound.Value)].CName : "(" + Render(compound.Value) + ")";
        int b = rightTensor ? LowerTensor(compound.Value) : -1;
        string forward = $"{_values[a].CName} {op} {rhsText}";
        switch (compound.OperatorKind)
        {
            case BinaryOperatorKind.Add or BinaryOperatorKind.Subtract when rightTensor:
                return EmitWithForward(OpKind.AddSub, compound, new[] { a, b }, forward,
                    args: ShapeArgs(a, b), parameters: new AddSubParams(compound.OperatorKind == BinaryOperatorKind.Subtract));
            case BinaryOperatorKind.Add or BinaryOperatorKind.Subtract:
                return EmitWithForward(OpKind.Identity, compound, new[] { a }, forward);
            case BinaryOperatorKind.Multiply when rightTensor:
                return EmitProduct(OpKind.Mul, compound, a, b, forward);
            case BinaryOperatorKind.Multiply:
                return EmitWithForward(OpKind.Scale, compound, new[] { a }, forward, args: new[] { ScalarArg("factor", compound.Value, false) });
            case BinaryOperatorKind.Divide when rightTensor:
                return EmitDiv(compound, a, b, forward);
            default:
                return EmitWithForward(OpKind.Scale, compound, new[] { a }, forward, args: new[] { ScalarArg("factor", compound.Value, true) });
        }
    }

    private OpArg ScalarArg(string name, IOperation scalar, bool reciprocal)
    {
        while (scalar is IConversionOperation { IsImplicit: true } conversion) scalar = conversion.Operand;
        var (text, _) = RenderCode(scalar);
        string expr = reciprocal ? $"1.0 / (double)({text})" : $"(double)({text})";
        if (scalar.Type?.Name == "Scalar") expr = reciprocal ? $"1.0 / ({text}).ToDouble()" : $"({text}).ToDouble()";
        return new OpArg(name, expr, "double", IsStable(scalar));
    }

    private OpArg[] ShapeArgs(int a, int b) => new[]
    {
        new OpArg("aShape", $"{_values[a].CName}.shape", "long[]", false),
        new OpArg("bShape", $"{_values[b].CName}.shape", "long[]", false),
    };

    private int EmitProduct(OpKind kind, IOperation op, int a, int b, string? forward = null) =>
        forward is null
            ? Emit(kind, op, new[] { a, b }, args: ShapeArgs(a, b))
            : EmitWithForward(kind, op, new[] { a, b }, forward, args: ShapeArgs(a, b));

    private int EmitDiv(IOperation op, int a, int b, string? forward = null)
    {
        if (_values[b].OnPathUnderRules && !_scope.NormIdentity && !_scope.PlainGradient)
            return LowerUnknown(op, $"'{FirstLine(op.Syntax)}' (division by a tensor that carries relevance)",
                "divide inside a helper marked [NormIdentity] (a normalisation) or [PlainGradient] (a router), or detach() the denominator");
        return forward is null
            ? Emit(OpKind.Div, op, new[] { a, b }, args: ShapeArgs(a, b))
            : EmitWithForward(OpKind.Div, op, new[] { a, b }, forward, args: ShapeArgs(a, b));
    }

    private int LowerIndexer(IPropertyReferenceOperation indexer)
    {
        int x = LowerTensor(indexer.Instance!);
        if (indexer.Arguments.Any(a => TorchSymbols.IsTensor(a.Value.Type) || TorchSymbols.IsTensorArray(a.Value.Type)))
            return LowerUnknown(indexer, "indexing with tensors", "index with TensorIndex slices, or detach() the input");
        var parts = new List<string>();
        bool stable = true;
        foreach (var arg in indexer.Arguments)
        {
            if (arg.ArgumentKind == ArgumentKind.ParamArray && arg.Value is IArrayCreationOperation { Initializer: { } init })
                foreach (var e in init.ElementValues) { parts.Add(Render(e)); stable &= IsStable(e); }
            else if (arg.ArgumentKind != ArgumentKind.DefaultValue) { parts.Add(Render(arg.Value)); stable &= IsStable(arg.Value); }
        }
        string indices = $"new global::TorchSharp.torch.TensorIndex[] {{ {string.Join(", ", parts)} }}";
        return Emit(OpKind.Index, indexer, new[] { x }, args: new[]
        {
            new OpArg("indices", indices, "global::TorchSharp.torch.TensorIndex[]", stable),
            new OpArg("inputShape", $"{_values[x].CName}.shape", "long[]", false),
        });
    }

    private int LowerElement(IArrayElementReferenceOperation element)
    {
        int array = LowerTensor(element.ArrayReference);
        if (element.Indices.Length != 1) return Fail(element, "a multi-dimensional array of tensors");
        var (index, _) = RenderCode(element.Indices[0]);
        // A new handle: the array keeps its own, disposed with the array.
        return EmitWithForward(OpKind.Element, element, new[] { array }, $"{_values[array].CName}[{index}].alias()",
            args: new[] { new OpArg("index", $"(int)({index})", "int", IsStable(element.Indices[0])) });
    }

    /// <summary>cond ? a : b on tensors: a branch (only the chosen side runs, as in C#) whose result is a
    /// carried variable without an incoming value.</summary>
    private int LowerSelect(IConditionalOperation conditional)
    {
        if (TorchSymbols.IsTensor(conditional.Condition.Type)) return LowerUnknown(conditional, "a tensor-valued condition");
        var (cond, uses) = RenderCode(conditional.Condition);
        int id = _nextControl++;
        string carry = UniqueName("selected");

        (Region Region, int Exit) Branch(IOperation side)
        {
            var outerMemo = _memo;
            _memo = new Dictionary<IOperation, int>();
            int first = _values.Count;
            _regions.Push(new List<Stmt>());
            int exit = LowerTensor(side);
            var stmts = _regions.Pop();
            _memo = outerMemo;
            if (exit < first)
            {
                // The side is an existing value: give the branch its own handle of it.
                _regions.Push(stmts);
                exit = EmitWithForward(OpKind.Identity, side, new[] { exit }, _values[exit].CName + ".alias()");
                _regions.Pop();
            }
            return (new Region(stmts.ToEquatable()), exit);
        }

        if (TorchSymbols.IsTensorArray(conditional.Type))
            return Fail(conditional, "choosing between tensor arrays with ?: (choose the tensors after splitting, e.g. cond ? f.split(8, -1)[0] : f.chunk(2, -1)[0])");
        var then = Branch(conditional.WhenTrue!);
        var @else = Branch(conditional.WhenFalse!);
        var output = NewValue(carry, owned: true);
        output.CName = carry;
        var exits = new[] { _values[then.Exit], _values[@else.Exit] };
        output.OnPath = exits.Any(v => v.OnPath);
        output.OnPathUnderRules = exits.Any(v => v.OnPathUnderRules);
        output.IsGate = exits.All(v => v.IsGate);
        var carried = new CarriedVar(carry, -1, -1, then.Exit, -1, @else.Exit, output.Id);
        Append(new ControlStmt(id, ControlKind.If, $"if ({cond})", FirstLine(conditional.Syntax), Where(conditional.Syntax),
            then.Region, @else.Region, new[] { carried }.ToEquatable(), uses));
        return output.Id;
    }

    /// <summary>Constants and members of this reached through fields and properties; re-evaluated in the backward.</summary>
    private static bool IsStable(IOperation op)
    {
        if (op.ConstantValue.HasValue) return true;
        switch (op)
        {
            case IConversionOperation c: return IsStable(c.Operand);
            case IInstanceReferenceOperation: return true;
            case IFieldReferenceOperation f: return f.Field.IsStatic ? f.Field.IsReadOnly || f.Field.IsConst : f.Instance is not null && IsStable(f.Instance) && f.Field.IsReadOnly;
            case IPropertyReferenceOperation p when !p.Property.IsIndexer && p.Arguments.Length == 0:
                return p.Instance is not null && IsStable(p.Instance) && !TorchSymbols.IsTensor(p.Instance.Type);
            case IUnaryOperation u: return IsStable(u.Operand);
            case IBinaryOperation b when b.OperatorMethod is null: return IsStable(b.LeftOperand) && IsStable(b.RightOperand);
            default: return false;
        }
    }

    // ---------------------------------------------------------------- emitting operations

    private int Emit(OpKind kind, IOperation op, int[] inputs, OpArg[]? args = null, OpParams? parameters = null)
    {
        var (forward, _) = PeekTensorInputs(op);
        return EmitWithForward(kind, op, inputs, forward, args, parameters);
    }

    private int EmitWithForward(OpKind kind, IOperation op, int[] inputs, string forward, OpArg[]? args = null,
        OpParams? parameters = null, int[]? paramIndices = null)
    {
        var output = NewValue("t" + _values.Count, owned: true);
        output.IsArray = kind == OpKind.Chunk;
        var ins = inputs.Select(i => _values[i]).ToList();
        // Which inputs relevance flows through (masks, weights and indices never carry it).
        var relevanceInputs = OpTable.RelevanceInputs(kind, ins);
        output.OnPath = relevanceInputs.Any(v => v.OnPath);
        output.OnPathUnderRules = relevanceInputs.Any(v => v.OnPathUnderRules);
        if (_scope.NormIdentity && kind is OpKind.Rsqrt or OpKind.Sqrt or OpKind.Pow)
            output.OnPathUnderRules = false; // the identity rule makes the normaliser's scale a constant
        output.IsGate = OpTable.MakesGate(kind) || (OpTable.KeepsGate(kind) && ins.Count > 0 && ins[0].IsGate);
        output.ProducerKind = kind;
        output.ProducerInputs = inputs;
        return AppendOp(kind, op, inputs, forward, output, args ?? Array.Empty<OpArg>(), parameters, paramIndices);
    }

    private int AppendOp(OpKind kind, IOperation op, int[] inputs, string forward, ValueBuilder output, OpArg[] args,
        OpParams? parameters = null, int[]? paramIndices = null)
    {
        var reads = ReadsOf(output.Id, inputs, forward, args);
        var (pointName, pointIndex) = kind is OpKind.Child or OpKind.Linear or OpKind.Conv2d or OpKind.Sequential ? _pendingPoint : ("", "");
        var stmt = new Op(_nextOp++, kind, output.Id, inputs.ToEquatable(), forward, args.ToEquatable(),
            FirstLine(op.Syntax), Where(op.Syntax), parameters ?? OpParams.None, _scope.CpForced,
            (paramIndices ?? Array.Empty<int>()).ToEquatable(), pointName, pointIndex, reads);
        Append(new OpStmt(stmt));
        _opLocations[stmt.Id] = op.Syntax.GetLocation();
        return output.Id;
    }

    /// <summary>Tensors other than the inputs that an operation's forward code reads (h in keep.to(h.dtype)): forward
    /// liveness must keep them alive until the operation. Found as identifiers in its code (member names after a dot
    /// and string contents are not identifiers there); a name held by several values (a carried variable) means the
    /// latest one defined before the operation.</summary>
    private EquatableArray<int> ReadsOf(int output, int[] inputs, string forward, OpArg[] args)
    {
        var text = forward + " " + string.Join(" ", args.Where(a => !a.Stable).Select(a => a.Expr));
        var reads = new List<int>();
        SyntaxToken previous = default;
        foreach (var token in SyntaxFactory.ParseTokens(text))
        {
            if (token.IsKind(SyntaxKind.IdentifierToken) && !previous.IsKind(SyntaxKind.DotToken))
            {
                for (int id = output - 1; id >= 0; id--)
                    if (_values[id].CName == token.Text)
                    {
                        if (!inputs.Contains(id) && !reads.Contains(id)) reads.Add(id);
                        break;
                    }
            }
            previous = token;
        }
        reads.Sort();
        return reads.ToEquatable();
    }

    /// <summary>Marks a value that feeds an Embedding lookup, and the structural chain above it, as token ids.</summary>
    private void MarkTokenIds(int id)
    {
        var v = _values[id];
        v.IsTokenIds = true;
        if (v.ProducerKind is OpKind.Reshape or OpKind.Identity or OpKind.Index or OpKind.Narrow or OpKind.Transpose or OpKind.Permute
            && v.ProducerInputs.Length > 0)
            MarkTokenIds(v.ProducerInputs[0]);
    }
}
