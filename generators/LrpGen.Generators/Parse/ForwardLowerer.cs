using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Generators.Diagnostics;
using LrpGen.Generators.Ir;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;

namespace LrpGen.Generators.Parse;

/// <summary>Lowers the body of a forward method (and the helpers it calls) into the SSA IR: a tree of regions
/// whose statements are tensor operations, copied configuration code, loops and branches.</summary>
/// <remarks>Statements: this file. Expressions: ForwardLowerer.Expressions.cs. Calls: ForwardLowerer.Calls.cs.</remarks>
internal sealed partial class ForwardLowerer
{
    private sealed class ValueBuilder
    {
        public int Id;
        public string CName = "";
        public bool Owned, IsArray, OnPath, OnPathUnderRules, IsGate, IsTokenIds;
        public int ParamIndex = -1;
        public OpKind ProducerKind = OpKind.Constant;
        public int[] ProducerInputs = Array.Empty<int>();

        public ValueInfo Freeze() => new(Id, CName, Owned, IsArray, OnPath, OnPathUnderRules, IsGate, IsTokenIds, ParamIndex);
    }

    /// <summary>What a symbol (local or parameter) stands for: a tensor value, or C# text.</summary>
    private sealed class Binding
    {
        public int Value = -1;
        public string? Text;
    }

    private readonly SemanticModel _semantic;
    private readonly INamedTypeSymbol _class;
    private readonly List<ValueBuilder> _values = new();
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly Stack<List<Stmt>> _regions = new();
    private Dictionary<ISymbol, Binding> _env = new(SymbolEqualityComparer.Default);
    private RuleScope _scope;
    private int _nextOp, _nextControl, _inlineCount;
    private readonly HashSet<string> _usedNames;
    private readonly HashSet<string> _inlineStack = new();
    private string _nameSuffix = "";

    private readonly string _prefix;

    public ForwardLowerer(SemanticModel semantic, INamedTypeSymbol moduleClass, RuleScope scope, IEnumerable<string> reservedNames, string prefix)
    {
        _prefix = prefix;
        _semantic = semantic;
        _class = moduleClass;
        _scope = scope;
        _usedNames = new HashSet<string>(reservedNames, StringComparer.Ordinal);
    }

    public IReadOnlyList<DiagnosticInfo> Diagnostics => _diagnostics;

    public bool Failed { get; private set; }

    private readonly Dictionary<int, Location> _opLocations = new();

    /// <summary>Where an operation was written (for diagnostics about it after lowering).</summary>
    public Location? LocationOf(Op op) => _opLocations.TryGetValue(op.Id, out var at) ? at : null;

    public EquatableArray<ValueInfo> Values => _values.Select(v => v.Freeze()).ToEquatable();

    /// <summary>Lowers forward; returns the body region and the parameters.</summary>
    public (Region Body, List<ForwardParameter> Parameters) LowerForward(IMethodSymbol forward, IOperation body)
    {
        var parameters = new List<ForwardParameter>();
        foreach (var p in forward.Parameters)
        {
            bool noRelevance = TorchSymbols.FindAttribute(p, "NoRelevanceAttribute") is not null;
            string name = Escape(p.Name);
            if (TorchSymbols.IsTensor(p.Type))
            {
                var v = NewValue(name, owned: false);
                v.CName = name; // the parameter itself
                v.OnPath = v.OnPathUnderRules = !noRelevance;
                v.ParamIndex = p.Ordinal;
                _env[p] = new Binding { Value = v.Id };
                parameters.Add(new ForwardParameter(name, Display(p.Type), true, noRelevance, v.Id));
            }
            else
            {
                if (noRelevance)
                    Report(LrpDiagnostics.MisplacedRule, p.Locations.FirstOrDefault(), "NoRelevance", p.Name, "only Tensor parameters carry relevance");
                _env[p] = new Binding { Text = name };
                parameters.Add(new ForwardParameter(name, Display(p.Type), false, noRelevance, -1));
            }
        }

        _regions.Push(new List<Stmt>());
        if (TorchSymbols.FindAttribute(forward, "IdentityNonlinearityAttribute") is not null)
            LowerForwardAsElementwise(forward, body, parameters);
        else if (body is IBlockOperation block) LowerStatements(block.Operations, isForwardBody: true);
        else if (!TorchSymbols.IsTensor(body.Type)) Report(LrpDiagnostics.UnsupportedConstruct, body.Syntax.GetLocation(), "forward must return a Tensor");
        else Append(new ReturnStmt(LowerTensor(body), "=> " + SourceText(body.Syntax), Where(body.Syntax)));
        var statements = _regions.Pop();
        if (!statements.OfType<ReturnStmt>().Any() && !Failed)
            Report(LrpDiagnostics.UnsupportedConstruct, forward.Locations.FirstOrDefault(), "forward must end with 'return <tensor>;'");
        var returned = statements.OfType<ReturnStmt>().FirstOrDefault();
        if (returned is not null && !Failed && !_values[returned.Value].OnPath)
            Report(LrpDiagnostics.OutputWithoutRelevance, forward.Locations.FirstOrDefault(), _class.Name);
        return (new Region(statements.ToEquatable()), parameters);
    }

    /// <summary>forward marked [IdentityNonlinearity]: the whole module is one element-wise function of its input,
    /// under the identity rule (like a helper with that attribute).</summary>
    private void LowerForwardAsElementwise(IMethodSymbol forward, IOperation body, List<ForwardParameter> parameters)
    {
        var input = parameters.SingleOrDefault(p => p.IsTensor);
        if (parameters.Count != 1 || input is null || input.NoRelevance)
        {
            Report(LrpDiagnostics.MisplacedRule, forward.Locations.FirstOrDefault(), "IdentityNonlinearity", "forward",
                "an [IdentityNonlinearity] forward is one element-wise function of exactly one relevance-carrying tensor");
            return;
        }
        int y = EmitWithForward(OpKind.CustomElementwise, body, new[] { input.ValueId }, $"this.forward({input.Name})",
            new[] { new OpArg("function", $"{_prefix}v__ => this.forward({_prefix}v__)", "global::System.Func<global::TorchSharp.torch.Tensor, global::TorchSharp.torch.Tensor>", false) },
            new ElementwiseParams("forward"));
        Append(new ReturnStmt(y, "[IdentityNonlinearity] forward", Where(body.Syntax)));
    }

    // ---------------------------------------------------------------- statements

    private void LowerStatements(IEnumerable<IOperation> operations, bool isForwardBody)
    {
        var list = operations.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var op = list[i];
            if (op is IReturnOperation ret)
            {
                bool last = i == list.Count - 1;
                if (!isForwardBody || !last || ret.ReturnedValue is null || _regions.Count != 1)
                {
                    Report(LrpDiagnostics.UnsupportedConstruct, op.Syntax.GetLocation(), "'return' other than as the last statement of forward");
                    continue;
                }
                if (!TorchSymbols.IsTensor(ret.ReturnedValue.Type))
                {
                    Report(LrpDiagnostics.UnsupportedConstruct, op.Syntax.GetLocation(), "forward must return a Tensor");
                    continue;
                }
                int v = LowerTensor(ret.ReturnedValue);
                Append(new ReturnStmt(v, SourceText(op.Syntax), Where(op.Syntax)));
                continue;
            }
            LowerStatement(op);
        }
    }

    private void LowerStatement(IOperation op) => LowerStatementCore(op);

    private void LowerStatementCore(IOperation op)
    {
        switch (op)
        {
            case IBlockOperation block:
                LowerStatements(block.Operations, isForwardBody: false);
                break;
            case IVariableDeclarationGroupOperation group:
                foreach (var declaration in group.Declarations)
                    foreach (var declarator in declaration.Declarators)
                        LowerDeclarator(declarator, declaration);
                break;
            case IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assign }:
                LowerAssignment(assign.Target, assign.Value, assign.Syntax, compound: null);
                break;
            case IExpressionStatementOperation { Operation: IDeconstructionAssignmentOperation deconstruction }:
                LowerDeconstruction(deconstruction);
                break;
            case IExpressionStatementOperation { Operation: ICompoundAssignmentOperation compound }:
                LowerAssignment(compound.Target, compound.Value, compound.Syntax, compound);
                break;
            case IExpressionStatementOperation { Operation: var expression }:
                if (TorchSymbols.IsTensor(expression.Type) || IsInPlace(expression))
                    Report(LrpDiagnostics.UnsupportedConstruct, expression.Syntax.GetLocation(),
                        $"the tensor expression '{SourceText(expression.Syntax)}' is evaluated for its side effect; assign its result instead");
                else
                    Append(new CodeStmt(Render(expression) + ";", UsesOf(expression)));
                break;
            case IForEachLoopOperation forEach:
                LowerForEach(forEach);
                break;
            case IForLoopOperation forLoop:
                LowerFor(forLoop);
                break;
            case IConditionalOperation conditional:
                LowerIf(conditional);
                break;
            case IEmptyOperation:
                break;
            default:
                Report(LrpDiagnostics.UnsupportedConstruct, op.Syntax.GetLocation(), $"the statement '{FirstLine(op.Syntax)}'");
                break;
        }
    }

    private static bool IsInPlace(IOperation expression) =>
        expression is IInvocationOperation inv && TorchSymbols.IsTensor(inv.TargetMethod.ReturnType);

    private void LowerDeclarator(IVariableDeclaratorOperation declarator, IVariableDeclarationOperation declaration)
    {
        var local = declarator.Symbol;
        var init = declarator.Initializer?.Value ?? declaration.Initializer?.Value;
        if (TorchSymbols.IsTensor(local.Type) || TorchSymbols.IsTensorArray(local.Type))
        {
            if (init is null)
            {
                Report(LrpDiagnostics.UnsupportedConstruct, declarator.Syntax.GetLocation(), $"tensor local '{local.Name}' declared without a value");
                return;
            }
            int v = LowerTensor(init);
            NameFreshValue(v, local.Name);
            _env[local] = new Binding { Value = v };
            return;
        }

        string name = FreshLocalName(local.Name);
        _env[local] = new Binding { Text = name };
        string type = local.Type.IsAnonymousType ? "var" : Display(local.Type);
        string text = init is null ? $"{type} {name};" : $"{type} {name} = {Render(init)};";
        Append(new CodeStmt(text, init is null ? EquatableArray<int>.Empty : UsesOf(init)));
    }

    /// <summary>var (a, b) = ...: values and indices of a torch selection; a submodule call returning a tuple is
    /// reported (LRP004 for unsupported modules); anything else giving tensors is not supported.</summary>
    private void LowerDeconstruction(IDeconstructionAssignmentOperation deconstruction)
    {
        var target = deconstruction.Target is IDeclarationExpressionOperation declaration ? declaration.Expression : deconstruction.Target;
        var elements = target is ITupleOperation tuple ? tuple.Elements : System.Collections.Immutable.ImmutableArray<IOperation>.Empty;
        if (!elements.Any(e => TorchSymbols.IsTensor(e.Type) || TorchSymbols.IsTensorArray(e.Type)))
        {
            Append(new CodeStmt(Render(deconstruction) + ";", UsesOf(deconstruction)));
            return;
        }
        var value = deconstruction.Value;
        while (value is IConversionOperation conversion) value = conversion.Operand;
        var results = new int[elements.Length];
        if (value is IInvocationOperation call && TorchSymbols.IsTorchApi(call.TargetMethod.ContainingType)
            && TorchFunctions.Selections.Contains(call.TargetMethod.Name) && elements.Length == 2)
        {
            results[0] = LowerSelection(call);
            results[1] = EmitSelectionIndices(call, call);
        }
        else
        {
            int poison = value is IInvocationOperation { Instance: { } receiver } moduleCall && (moduleCall.TargetMethod.Name is "call" or "forward")
                         && TorchSymbols.IsModule(receiver.Type)
                ? LowerModuleCall(moduleCall)
                : Fail(deconstruction, $"deconstructing '{FirstLine(value.Syntax)}' into tensors");
            for (int i = 0; i < results.Length; i++) results[i] = poison;
        }
        for (int i = 0; i < elements.Length; i++)
            if (elements[i] is ILocalReferenceOperation { Local: var local } && (TorchSymbols.IsTensor(local.Type) || TorchSymbols.IsTensorArray(local.Type)))
            {
                NameFreshValue(results[i], local.Name);
                _env[local] = new Binding { Value = results[i] };
            }
    }

    private void LowerAssignment(IOperation target, IOperation value, SyntaxNode syntax, ICompoundAssignmentOperation? compound)
    {
        if (target is IParameterReferenceOperation paramRef)
        {
            // Forward's parameters are locals of forward: reassigning one rebinds it.
            if (TorchSymbols.IsTensor(paramRef.Parameter.Type))
            {
                int pv = compound is null ? LowerTensor(value) : LowerCompound(compound);
                NameFreshValue(pv, paramRef.Parameter.Name);
                _env[paramRef.Parameter] = new Binding { Value = pv };
            }
            else
            {
                var (code, uses) = RenderCode((IOperation?)compound ?? value.Parent!);
                Append(new CodeStmt(code + ";", uses));
            }
            return;
        }
        if (target is not ILocalReferenceOperation localRef)
        {
            if (TorchSymbols.IsTensor(target.Type) || TorchSymbols.IsModule(target.Type) || target is IFieldReferenceOperation or IPropertyReferenceOperation)
            {
                Report(LrpDiagnostics.UnsupportedConstruct, syntax.GetLocation(), $"assignment to '{SourceText(target.Syntax)}' (forward may assign locals only)");
                return;
            }
            Append(new CodeStmt(Render(compound ?? (IOperation)value.Parent!) + ";", UsesOf(value)));
            return;
        }

        var local = localRef.Local;
        if (TorchSymbols.IsTensor(local.Type) || TorchSymbols.IsTensorArray(local.Type))
        {
            int v = compound is null ? LowerTensor(value) : LowerCompound(compound);
            NameFreshValue(v, local.Name);
            _env[local] = new Binding { Value = v };
            return;
        }

        if (!_env.TryGetValue(local, out var binding) || binding.Text is null)
        {
            Report(LrpDiagnostics.UnsupportedConstruct, syntax.GetLocation(), $"assignment to '{local.Name}' before its declaration");
            return;
        }
        var root = (IOperation?)compound ?? value.Parent!;
        Append(new CodeStmt(Render(root) + ";", UsesOf(root)));
    }

    // ---------------------------------------------------------------- loops and branches

    private void LowerForEach(IForEachLoopOperation loop)
    {
        if (TorchSymbols.IsTensor(loop.Collection.Type) || TorchSymbols.IsTensorArray(loop.Collection.Type))
        {
            Report(LrpDiagnostics.UnsupportedConstruct, loop.Syntax.GetLocation(), "foreach over tensors (loop over a ModuleList of modules instead)");
            return;
        }
        if (loop.LoopControlVariable is not IVariableDeclaratorOperation control)
        {
            Report(LrpDiagnostics.UnsupportedConstruct, loop.Syntax.GetLocation(), "foreach with a deconstructed loop variable");
            return;
        }
        var syntax = (Microsoft.CodeAnalysis.CSharp.Syntax.ForEachStatementSyntax)loop.Syntax;
        string name = FreshLocalName(control.Symbol.Name);
        _env[control.Symbol] = new Binding { Text = name };
        string header = $"foreach (var {name} in {Render(loop.Collection)})";
        string? prologue = null;
        var collection = loop.Collection is IConversionOperation conv ? conv.Operand : loop.Collection;
        if (collection is IMemberReferenceOperation member && TorchSymbols.IsModule(collection.Type))
        {
            // Module-list elements are named "<list>.<index>" for latent relevance: count the iterations.
            string counter = UniqueName(member.Member.Name + "_index");
            Append(new CodeStmt($"long {counter} = -1;", EquatableArray<int>.Empty));
            prologue = $"{counter}++;";
            _moduleLoopVariables[control.Symbol] = (member.Member.Name, counter);
        }
        LowerControl(ControlKind.Loop, header, loop, loop.Body, null, UsesOf(loop.Collection), syntax.ForEachKeyword.GetLocation(), prologue);
    }

    private void LowerFor(IForLoopOperation loop)
    {
        var syntax = (Microsoft.CodeAnalysis.CSharp.Syntax.ForStatementSyntax)loop.Syntax;
        foreach (var local in loop.Locals)
            if (TorchSymbols.IsTensor(local.Type))
            {
                Report(LrpDiagnostics.UnsupportedConstruct, syntax.GetLocation(), "a tensor loop variable");
                return;
            }
        foreach (var local in loop.Locals)
            _env[local] = new Binding { Text = FreshLocalName(local.Name) };
        string before = string.Join(", ", loop.Before.Select(RenderForPart));
        string condition = loop.Condition is null ? "" : Render(loop.Condition);
        string after = string.Join(", ", loop.AtLoopBottom.Select(RenderForPart));
        var uses = new List<int>();
        foreach (var part in loop.Before.Concat(loop.AtLoopBottom)) uses.AddRange(UsesOf(part));
        if (loop.Condition is not null) uses.AddRange(UsesOf(loop.Condition));
        string header = $"for ({before}; {condition}; {after})";
        LowerControl(ControlKind.Loop, header, loop, loop.Body, null, uses.ToEquatable(), syntax.ForKeyword.GetLocation());
    }

    private string RenderForPart(IOperation part)
    {
        if (part is IVariableDeclarationGroupOperation group)
        {
            var pieces = new List<string>();
            foreach (var d in group.Declarations)
                foreach (var v in d.Declarators)
                {
                    var init = v.Initializer?.Value;
                    pieces.Add($"{_env[v.Symbol].Text}{(init is null ? "" : " = " + Render(init))}");
                }
            var first = group.Declarations.FirstOrDefault()?.Declarators.FirstOrDefault()?.Symbol.Type;
            return $"{(first is null ? "var" : Display(first))} {string.Join(", ", pieces)}";
        }
        if (part is IExpressionStatementOperation es) return Render(es.Operation);
        return Render(part);
    }

    private void LowerIf(IConditionalOperation conditional)
    {
        if (TorchSymbols.IsTensor(conditional.Condition.Type))
        {
            Report(LrpDiagnostics.UnsupportedConstruct, conditional.Condition.Syntax.GetLocation(), "a condition that is a tensor");
            return;
        }
        string header = $"if ({Render(conditional.Condition)})";
        var syntax = (Microsoft.CodeAnalysis.CSharp.Syntax.IfStatementSyntax)conditional.Syntax;
        LowerControl(ControlKind.If, header, conditional, conditional.WhenTrue, conditional.WhenFalse,
            UsesOf(conditional.Condition), syntax.IfKeyword.GetLocation());
    }

    /// <summary>Lowers a loop body or the two branches of an if. Tensor locals declared outside and assigned
    /// inside become carried variables: one mutable C# variable, entry and exit values per body.</summary>
    private void LowerControl(ControlKind kind, string header, IOperation statement, IOperation body, IOperation? elseBody,
        EquatableArray<int> conditionUses, Location location, string? prologue = null)
    {
        var assigned = AssignedOuterTensorLocals(body).Concat(elseBody is null ? Enumerable.Empty<ISymbol>() : AssignedOuterTensorLocals(elseBody))
            .Distinct<ISymbol>(SymbolEqualityComparer.Default).ToList();
        foreach (var array in assigned.Where(l => TorchSymbols.IsTensorArray(TypeOf(l))))
        {
            Report(LrpDiagnostics.UnsupportedConstruct, location,
                $"assigning the tensor array '{array.Name}' in a loop or branch (assign the tensors taken from it instead)");
            return;
        }
        var carriedNames = assigned.Select(l => FreshLocalName(l.Name + "_carry")).ToList();
        int id = _nextControl++;

        var outerEnv = _env;
        var outerIn = assigned.Select(l => outerEnv.TryGetValue(l, out var b) ? b.Value : -1).ToList();
        if (outerIn.Any(v => v < 0))
        {
            Report(LrpDiagnostics.UnsupportedConstruct, location, "a tensor local assigned in a loop or branch before it has a value");
            return;
        }

        // A carried value may become relevance-carrying only inside the body (first pass tells), so lower twice if needed.
        var entryOnPath = outerIn.Select(v => _values[v].OnPath).ToList();
        // Likewise a gate stays a gate around a loop only if every iteration leaves it one (a product never is).
        var entryGate = outerIn.Select(v => _values[v].IsGate).ToList();
        (Region Region, List<int> Entries, List<int> Exits) LowerBody(IOperation b)
        {
            var env = new Dictionary<ISymbol, Binding>(outerEnv, SymbolEqualityComparer.Default);
            var entries = new List<int>();
            for (int i = 0; i < assigned.Count; i++)
            {
                var source = _values[outerIn[i]];
                var entry = NewValue(carriedNames[i], owned: true);
                entry.CName = carriedNames[i];
                entry.OnPath = entryOnPath[i];
                entry.OnPathUnderRules = entryOnPath[i] && source.OnPathUnderRules;
                entry.IsGate = entryGate[i];
                entry.IsArray = source.IsArray;
                env[assigned[i]] = new Binding { Value = entry.Id };
                entries.Add(entry.Id);
            }
            _env = env;
            var outerMemo = _memo;
            _memo = new Dictionary<IOperation, int>();
            int firstBodyValue = _values.Count;
            _regions.Push(new List<Stmt>());
            if (prologue is not null && ReferenceEquals(b, body)) Append(new CodeStmt(prologue, EquatableArray<int>.Empty));
            LowerStatement(b);
            var stmts = _regions.Pop();
            var exits = assigned.Select(l => _env[l].Value).ToList();
            _env = outerEnv;
            _memo = outerMemo;
            for (int i = 0; i < exits.Count; i++)
                if (exits[i] != entries[i] && exits[i] < firstBodyValue)
                    Report(LrpDiagnostics.UnsupportedConstruct, location,
                        $"assigning '{assigned[i].Name}' a tensor from outside the loop or branch (assign a value computed inside it)");
            return (new Region(stmts.ToEquatable()), entries, exits);
        }

        int diagnosticsBefore = _diagnostics.Count;
        bool failedBefore = Failed;
        var then = LowerBody(body);
        var @else = elseBody is null ? default : LowerBody(elseBody);
        for (int pass = 0; pass < 3; pass++)
        {
            var recomputed = assigned.Select((_, i) => entryOnPath[i] || _values[then.Exits[i]].OnPath || (elseBody is not null && _values[@else.Exits[i]].OnPath)).ToList();
            var recomputedGate = assigned.Select((_, i) => entryGate[i] && (kind != ControlKind.Loop || _values[then.Exits[i]].IsGate)).ToList();
            if (recomputed.SequenceEqual(entryOnPath) && recomputedGate.SequenceEqual(entryGate)) break;
            _diagnostics.RemoveRange(diagnosticsBefore, _diagnostics.Count - diagnosticsBefore);
            Failed = failedBefore;
            entryOnPath = recomputed;
            entryGate = recomputedGate;
            then = LowerBody(body);
            @else = elseBody is null ? default : LowerBody(elseBody);
        }

        var carried = new List<CarriedVar>();
        for (int i = 0; i < assigned.Count; i++)
        {
            var outVal = NewValue(carriedNames[i], owned: true);
            outVal.CName = carriedNames[i];
            var exitValues = new[] { then.Exits[i] }.Concat(elseBody is null ? new[] { outerIn[i] } : new[] { @else.Exits[i] }).Select(v => _values[v]).ToList();
            outVal.OnPath = entryOnPath[i];
            outVal.OnPathUnderRules = exitValues.Any(v => v.OnPathUnderRules) || _values[outerIn[i]].OnPathUnderRules;
            // Static merge: a gate only if it is one on every path (and, around a loop, at entry too).
            outVal.IsGate = exitValues.All(v => v.IsGate) && (kind != ControlKind.Loop || entryGate[i]);
            outVal.IsArray = _values[outerIn[i]].IsArray;
            carried.Add(new CarriedVar(carriedNames[i], outerIn[i], then.Entries[i], then.Exits[i],
                elseBody is null ? -1 : @else.Entries[i], elseBody is null ? -1 : @else.Exits[i], outVal.Id));
            _env[assigned[i]] = new Binding { Value = outVal.Id };
        }

        Append(new ControlStmt(id, kind, header, FirstLine(statement.Syntax), Where(statement.Syntax), then.Region,
            elseBody is null ? null : @else.Region, carried.ToEquatable(), conditionUses));
    }

    private static ITypeSymbol? TypeOf(ISymbol symbol) => symbol switch
    {
        ILocalSymbol l => l.Type,
        IParameterSymbol p => p.Type,
        _ => null,
    };

    /// <summary>Tensor locals declared outside a body, and forward's tensor parameters, that the body assigns.</summary>
    private IEnumerable<ISymbol> AssignedOuterTensorLocals(IOperation body)
    {
        var declaredInside = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        foreach (var d in body.DescendantsAndSelf().OfType<IVariableDeclaratorOperation>()) declaredInside.Add(d.Symbol);
        foreach (var op in body.DescendantsAndSelf())
        {
            IOperation? target = op switch
            {
                ISimpleAssignmentOperation a => a.Target,
                ICompoundAssignmentOperation c => c.Target,
                _ => null,
            };
            if (target is ILocalReferenceOperation lr && !declaredInside.Contains(lr.Local)
                && (TorchSymbols.IsTensor(lr.Local.Type) || TorchSymbols.IsTensorArray(lr.Local.Type)))
                yield return lr.Local;
            else if (target is IParameterReferenceOperation pr && (TorchSymbols.IsTensor(pr.Parameter.Type) || TorchSymbols.IsTensorArray(pr.Parameter.Type)))
                yield return pr.Parameter;
        }
    }

    // ---------------------------------------------------------------- values and statements

    private ValueBuilder NewValue(string name, bool owned)
    {
        var v = new ValueBuilder { Id = _values.Count, Owned = owned };
        v.CName = UniqueName(name);
        _values.Add(v);
        return v;
    }

    private void NameFreshValue(int id, string localName)
    {
        var v = _values[id];
        if (v.Owned && v.ParamIndex < 0 && v.CName.StartsWith("t", StringComparison.Ordinal) && char.IsDigit(v.CName.Length > 1 ? v.CName[1] : 'x'))
            v.CName = UniqueName(localName + _nameSuffix);
    }

    private string UniqueName(string stem)
    {
        stem = stem.TrimStart('@');
        if (!_usedNames.Contains(stem) && SyntaxFacts.GetKeywordKind(stem) == SyntaxKind.None && stem.Length > 0 && !Hygiene.IsGeneratorName(stem, _prefix))
        {
            _usedNames.Add(stem);
            return stem;
        }
        for (int i = 1; ; i++)
        {
            var number = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // point1, f1, ... are the generator's own names: point_1 then (a user-derived stem never starts with g_,
            // gc_ or the prefix, so the underscore form is always free of the generator's names).
            var candidate = Hygiene.IsGeneratorName(stem + number, _prefix) ? stem + "_" + number : stem + number;
            if (_usedNames.Add(candidate)) return candidate;
        }
    }

    private string FreshLocalName(string name) => _inlineStack.Count == 0 && _usedNames.Add("local:" + name) ? Escape(name) : UniqueName(name + _nameSuffix);

    private void Append(Stmt stmt) => _regions.Peek().Add(stmt);

    private void Report(DiagnosticDescriptor descriptor, Location? location, params string[] args)
    {
        if (descriptor.DefaultSeverity == DiagnosticSeverity.Error) Failed = true;
        _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, args));
    }

    private static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    internal static string Display(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    private static string SourceText(SyntaxNode node) => CollapseWhitespace(node.ToString());

    private static string FirstLine(SyntaxNode node)
    {
        var text = node.ToString();
        int nl = text.IndexOf('\n');
        return CollapseWhitespace(nl < 0 ? text : text.Substring(0, nl));
    }

    private static string CollapseWhitespace(string s) => string.Join(" ", s.Split(new[] { ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Where a statement is written, relative to the method that holds it ("line 3 of Mlp.forward",
    /// line 1 being the method's name): a comment in the generated code that stays the same when lines are added
    /// above the class, so that such an edit does not regenerate it.</summary>
    private static string Where(SyntaxNode node)
    {
        int line = node.GetLocation().GetLineSpan().StartLinePosition.Line;
        var member = node.FirstAncestorOrSelf<Microsoft.CodeAnalysis.CSharp.Syntax.MemberDeclarationSyntax>();
        if (member is null) return $"line {line + 1}";
        var type = member.FirstAncestorOrSelf<Microsoft.CodeAnalysis.CSharp.Syntax.BaseTypeDeclarationSyntax>();
        var (name, anchor) = member switch
        {
            Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax m => (m.Identifier.Text, m.Identifier),
            Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax p => (p.Identifier.Text, p.Identifier),
            Microsoft.CodeAnalysis.CSharp.Syntax.ConstructorDeclarationSyntax c => (c.Identifier.Text, c.Identifier),
            _ => ("", default(SyntaxToken)),
        };
        if (name.Length == 0) return $"line {line + 1}";
        int first = anchor.GetLocation().GetLineSpan().StartLinePosition.Line;
        string owner = type is null ? name : type.Identifier.Text + "." + name;
        return $"line {line - first + 1} of {owner}";
    }
}
