using System;
using System.Collections.Generic;
using System.Linq;
using static LrpGen.Fuzzing.Generation.Code;

namespace LrpGen.Fuzzing.Generation;

/// <summary>Constructs with structure: helper methods with rule attributes, child [LrpModule] modules, loops over
/// ModuleList, branches on configuration, and the operations without a rule that must be rejected.</summary>
internal sealed partial class ProgramGenerator
{
    private Val? ScopedHelper(ClassGen cls, Block block, Val? forced)
    {
        var a = forced ?? ChoosePrimaryOrNull(block, v => v.OnPath);
        if (a is null) return null;
        var args = new List<Val> { a };
        if (Chance(0.4)) args.Add(PickFrom(block.Pool));
        string attribute;
        Scope scope;
        switch (_rng.Next(5))
        {
            case 0:
            {
                double e = Pick(0.01, 0.1);
                attribute = $"[EpsilonRule({D(e)})]";
                scope = new Scope(block.Scope.CpForced, e);
                break;
            }
            case 1: attribute = "[CpLrp]"; scope = new Scope(true, block.Scope.Epsilon); break;
            case 2: attribute = "[UniformMatmul]"; scope = block.Scope; break;
            case 3: attribute = "[UniformRule]"; scope = block.Scope; break;
            default: attribute = ""; scope = block.Scope; break;
        }
        var name = cls.Names.Fresh("Helper", member: true);
        var pool = new List<Val>();
        var paramNames = new List<string>();
        foreach (var arg in args)
        {
            var p = cls.Names.Fresh("p");
            paramNames.Add(p);
            pool.Add(new Val { Name = p, Shape = arg.Shape, OnPath = arg.OnPath, Gate = arg.Gate, Contiguous = arg.Contiguous, Tainted = arg.Tainted });
        }
        var body = new Block(pool, scope, 2, BlockKind.Helper);
        int steps = _rng.Next(1, 4);
        int rejectAt = _reject && !_rejected && Chance(0.3) ? _rng.Next(steps) : -1;
        for (int i = 0; i < steps; i++)
        {
            if (i == rejectAt) EmitRejected(cls, body);
            RandomStep(cls, body, depth: 1);
        }
        var result = body.Created.LastOrDefault(v => v.Tainted) ?? body.Created.LastOrDefault(v => v.OnPath) ?? body.Created[^1];
        if (!body.Pool.Contains(result)) result = body.Pool.Last(v => v.Name == result.Name);

        string signature = string.Join(", ", paramNames.Select(p => "Tensor " + p));
        string attributeLine = attribute.Length == 0 ? "" : $"    {attribute}\n";
        string prefix = $"{body.Pad}var {result.Name} = ";
        if (body.Fwd.Count == 1 && body.Fwd[0].StartsWith(prefix, StringComparison.Ordinal) && body.Fwd[0].EndsWith(';') && Chance(0.5))
            cls.Methods.Add($"{attributeLine}    private Tensor {name}({signature}) =>\n        {body.Fwd[0][prefix.Length..]}\n");
        else
            cls.Methods.Add($"{attributeLine}    private Tensor {name}({signature})\n    {{\n{string.Join("\n", body.Fwd)}\n        return {result.Name};\n    }}\n");
        cls.RefMethods.Add($"    internal static Tensor {name}(RuleInjection rr__, {cls.Name} mm__, {signature})\n    {{\n{string.Join("\n", body.Ref)}\n        return {result.Name};\n    }}\n");
        var call = string.Join(", ", args.Select(v => v.Name));
        return Emit(cls, block, $"@{name}({call})", $"{cls.RefName}.{name}(rr__, mm__, {call})", result.Shape, result.OnPath, result.Gate,
            result.Contiguous, result.Tainted, MaybeReplace(block, a, result.Shape.SequenceEqual(a.Shape)));
    }

    private ClassGen GenerateChild(ClassGen parent, long[] inputShape, bool preserve)
    {
        var child = NewClass($"{parent.Name}C{++_childCount}", cpClass: Chance(0.15));
        var input = child.Names.Fresh("x");
        child.Inputs.Add((input, inputShape, InputKind.Relevance));
        child.Body = new Block(new List<Val> { new() { Name = input, Shape = inputShape, OnPath = true } }, new Scope(child.CpClass, null), 2, BlockKind.Forward)
        {
            Preserve = preserve,
        };
        int steps = _rng.Next(1, 5);
        for (int i = 0; i < steps; i++) RandomStep(child, child.Body, depth: 1);
        var output = child.Body.Pool.Where(v => v.OnPath && (!preserve || v.Shape.SequenceEqual(inputShape))).Last();
        child.Output = output.Name;
        child.OutputShape = output.Shape;
        parent.Children.Add(child);
        return child;
    }

    private Val? ChildCall(ClassGen cls, Block block, Val? forced)
    {
        var x = forced ?? ChoosePrimaryOrNull(block, v => v.OnPath);
        if (x is null) return null;
        var child = GenerateChild(cls, x.Shape, preserve: false);
        var f = Field(cls, child.Name, "block", child.NewExpr);
        return Emit(cls, block, $"@{f}.call({x.Name})", $"{child.RefName}.Forward(rr__, mm__.{f}, {x.Name})", child.OutputShape, x.OnPath, false, true,
            x.Tainted, MaybeReplace(block, x, child.OutputShape.SequenceEqual(x.Shape)));
    }

    /// <summary>A relevance-carrying local of this block that a loop or branch may reassign (a fresh alias if none).</summary>
    private Val? Carried(ClassGen cls, Block block, Val? forced)
    {
        bool Assignable(Val v) => block.Declared.Contains(v.Name) || (_config.On("param-reassign") && cls.Inputs.Any(i => i.Name == v.Name));
        var h = forced is not null ? forced : ChoosePrimaryOrNull(block, v => v.OnPath && Assignable(v)) ?? ChoosePrimaryOrNull(block, v => v.OnPath);
        if (h is null) return null;
        if (Assignable(h)) return h;
        var alias = cls.Names.Fresh("h");
        block.Both($"var {alias} = {h.Name};", $"var {alias} = {h.Name};");
        block.Declared.Add(alias);
        var aliased = new Val { Name = alias, Shape = h.Shape, OnPath = h.OnPath, Gate = h.Gate, Contiguous = h.Contiguous, Tainted = h.Tainted };
        block.Pool.Add(aliased);
        return aliased;
    }

    private Val? Loop(ClassGen cls, Block block, Val? forced)
    {
        var h = Carried(cls, block, forced);
        if (h is null) return null;
        bool children = _config.On("child") && Chance(0.3);
        int count = Chance(0.1) ? 0 : _rng.Next(1, 4);
        var list = cls.Names.Fresh("layers", member: true);
        ClassGen? child = null;
        if (children)
        {
            child = GenerateChild(cls, h.Shape, preserve: true);
            cls.Fields.Add($"internal readonly ModuleList<{child.Name}> {list};");
            cls.Ctor.Add($"{list} = new ModuleList<{child.Name}>();");
            cls.Ctor.Add($"for (int k__ = 0; k__ < {count}; k__++) {list}.Add({child.NewExpr});");
        }
        else
        {
            cls.Fields.Add($"internal readonly ModuleList<Linear> {list};");
            cls.Ctor.Add($"{list} = new ModuleList<Linear>();");
            cls.Ctor.Add($"for (int k__ = 0; k__ < {count}; k__++) {list}.Add(nn.Linear({h.Last}, {h.Last}));");
        }
        string pre = Chance(0.15) ? "this." : "";
        bool useForeach = Chance(0.5);
        var element = cls.Names.Fresh("layer");
        var counter = cls.Names.Fresh("i");
        string m = useForeach ? element : $"{pre}{list}[{counter}]";
        string mr = useForeach ? element : $"mm__.{list}[{counter}]";
        string CallF(string arg) => $"{m}.call({arg})";
        string CallR(string arg) => child is null ? $"{mr}.call({arg})" : $"{child.RefName}.Forward(rr__, {mr}, {arg})";
        string act = WeightedPick(ActivationForms.Where(a => !a.Form.Contains("exp")).ToArray());
        string ActF(string arg) => string.Format(act, arg);
        string ActR(string arg) => $"rr__.Identity(u__ => {string.Format(act, "u__")}, {arg})";

        int template = _rng.Next(child is null ? 5 : 4);
        if (!_config.On("loop-product") && template is 2 or 3) template = 1;
        if (child is not null && template == 3) template = 0;
        bool exitGate = child is null && template == 0;
        // The carried value is the outer one in the first iteration and the body's in the others. Dynamic: what
        // ran; static (the generator's model): decided once per body, a gate only if it enters as one and every
        // iteration leaves it one.
        bool dynamic = _config.On("gate-merge");
        var first = cls.Names.Fresh("first") + "__";
        string entryGateRef = dynamic ? $"({first} ? {B(h.Gate)} : {B(exitGate)})" : B(h.Gate && exitGate);
        string cp = B(block.Scope.CpForced);
        var x = h.Name;
        var inner = block.Pad + "    ";
        var fwd = new List<string>();
        var refs = new List<string>();
        switch (template)
        {
            case 0:
                fwd.Add(child is null ? $"{x} = {ActF(CallF(x))};" : $"{x} = {CallF(x)};");
                refs.Add(child is null ? $"{x} = {ActR(CallR(x))};" : $"{x} = {CallR(x)};");
                break;
            case 1:
                fwd.Add(child is null ? $"{x} = {x} + {ActF(CallF(x))};" : $"{x} = {x} + {CallF(x)};");
                refs.Add(child is null ? $"{x} = {x} + {ActR(CallR(x))};" : $"{x} = {x} + {CallR(x)};");
                break;
            case 2:
                fwd.Add($"{x} = {CallF(x)} * {x};");
                refs.Add($"{x} = rr__.Product({CallR(x)}, {x}, (p__, q__) => p__ * q__, false, {entryGateRef}, {cp});");
                break;
            case 3:
                fwd.Add($"{x} = {ActF(CallF(x))} * {x};");
                refs.Add($"{x} = rr__.Product({ActR(CallR(x))}, {x}, (p__, q__) => p__ * q__, true, {entryGateRef}, {cp});");
                break;
            default:
            {
                var tmp = cls.Names.Fresh("y");
                fwd.Add($"var {tmp} = {CallF(x)};");
                refs.Add($"var {tmp} = {CallR(x)};");
                fwd.Add($"{x} = {tmp} + {x};");
                refs.Add($"{x} = {tmp} + {x};");
                break;
            }
        }
        refs.Add($"{first} = false;");
        block.Ref.Add($"{block.Pad}var {first} = true;");
        block.Fwd.Add(block.Pad + (useForeach ? $"foreach (var {element} in {pre}{list})" : $"for (int {counter} = 0; {counter} < {pre}{list}.Count; {counter}++)"));
        block.Ref.Add(block.Pad + (useForeach ? $"foreach (var {element} in mm__.{list})" : $"for (int {counter} = 0; {counter} < mm__.{list}.Count; {counter}++)"));
        block.Both("{", "{");
        foreach (var line in fwd) block.Fwd.Add(inner + line);
        foreach (var line in refs) block.Ref.Add(inner + line);
        block.Both("}", "}");
        bool gateAfter = dynamic ? (count == 0 ? h.Gate : exitGate) : h.Gate && exitGate;
        return Reassigned(block, h, h.OnPath, gateAfter, h.Tainted);
    }

    private Val? Branch(ClassGen cls, Block block, Val? forced)
    {
        var h = Carried(cls, block, forced);
        if (h is null) return null;
        var flag = cls.Names.Fresh("use", member: true);
        bool flagValue = Chance(0.5);
        cls.Fields.Add($"internal readonly bool {flag};");
        cls.CtorParams.Add(($"bool {flag}", B(flagValue)));
        cls.Ctor.Add($"this.{flag} = {flag};");
        bool negated = Chance(0.3);
        string pre = Chance(0.15) ? "this." : "";
        string cond = (negated ? "!" : "") + pre + flag, condRef = (negated ? "!" : "") + "mm__." + flag;
        int form = _rng.Next(3);
        bool thenRuns = flagValue != negated, dynamic = _config.On("gate-merge");
        // Dynamic: the taken branch says whether the result is a gate; static (the generator's model): both must.
        bool Merge(bool thenGate, bool elseGate) => dynamic ? (thenRuns ? thenGate : elseGate) : thenGate && elseGate;
        if (form == 2)
        {
            var (f1, r1, g1) = SimpleExpression(cls, h);
            var (f2, r2, g2) = SimpleExpression(cls, h);
            block.Both($"{h.Name} = {cond} ? {f1} : {f2};", $"{h.Name} = {condRef} ? {r1} : {r2};");
            return Reassigned(block, h, h.OnPath, Merge(g1, g2), h.Tainted);
        }
        var (thenBlock, thenExit) = BranchBody(cls, block, h);
        (Block Body, Val Exit)? elseBranch = form == 0 ? BranchBody(cls, block, h) : null;
        block.Fwd.Add($"{block.Pad}if ({cond})");
        block.Ref.Add($"{block.Pad}if ({condRef})");
        AppendBody(block, thenBlock);
        if (elseBranch is { } e)
        {
            block.Both("else", "else");
            AppendBody(block, e.Body);
        }
        bool gate = Merge(thenExit.Gate, elseBranch is { } eb ? eb.Exit.Gate : h.Gate);
        bool onPath = h.OnPath || thenExit.OnPath || (elseBranch?.Exit.OnPath ?? false);
        bool tainted = h.Tainted || thenExit.Tainted || (elseBranch?.Exit.Tainted ?? false);
        return Reassigned(block, h, onPath, gate, tainted);
    }

    private (Block Body, Val Exit) BranchBody(ClassGen cls, Block outer, Val h)
    {
        var body = new Block(new List<Val>(outer.Pool), outer.Scope, outer.Indent + 1, BlockKind.Branch) { Preserve = true };
        RandomStep(cls, body, depth: 1, forced: h);
        if (Chance(0.4)) RandomStep(cls, body, depth: 1);
        var exit = body.Created.LastOrDefault(v => v.Shape.SequenceEqual(h.Shape) && body.Pool.Contains(v));
        if (exit is null)
        {
            var form = WeightedPick(ActivationForms.Where(a => !a.Form.Contains("exp")).ToArray());
            exit = Emit(cls, body, string.Format(form, h.Name), $"rr__.Identity(u__ => {string.Format(form, "u__")}, {h.Name})", h.Shape, h.OnPath, true, true, h.Tainted);
        }
        body.Both($"{h.Name} = {exit.Name};", $"{h.Name} = {exit.Name};");
        return (body, exit);
    }

    private static void AppendBody(Block outer, Block body)
    {
        outer.Both("{", "{");
        outer.Fwd.AddRange(body.Fwd);
        outer.Ref.AddRange(body.Ref);
        outer.Both("}", "}");
    }

    /// <summary>A single expression on h for the two sides of ?: (module text, reference text, is a gate).</summary>
    private (string Fwd, string Ref, bool Gate) SimpleExpression(ClassGen cls, Val h)
    {
        switch (_rng.Next(3))
        {
            case 0:
            {
                var form = WeightedPick(ActivationForms.Where(a => !a.Form.Contains("exp")).ToArray());
                return (string.Format(form, h.Name), $"rr__.Identity(u__ => {string.Format(form, "u__")}, {h.Name})", true);
            }
            case 1:
            {
                var f = cls.Names.Fresh("fc", member: true);
                cls.Fields.Add($"internal readonly Linear {f};");
                cls.Ctor.Add($"{f} = nn.Linear({h.Last}, {h.Last});");
                return ($"{f}.call({h.Name})", $"mm__.{f}.call({h.Name})", false);
            }
            default:
                return ($"{h.Name} * 0.5", $"{h.Name} * 0.5", h.Gate);
        }
    }

    private static Val Reassigned(Block block, Val h, bool onPath, bool gate, bool tainted)
    {
        block.Pool.Remove(h);
        var v = new Val { Name = h.Name, Shape = h.Shape, OnPath = onPath, Gate = gate && onPath, Contiguous = false, Tainted = tainted };
        block.Pool.Add(v);
        block.Created.Add(v);
        return v;
    }

    /// <summary>An operation without a rule on the relevance path: the generator must report LRP003 at its line.</summary>
    private void EmitRejected(ClassGen cls, Block block)
    {
        var x = ChoosePrimaryOrNull(block, v => v.OnPath);
        if (x is null) return;
        var sameOnPath = block.Pool.Where(v => v.OnPath && v.Shape.SequenceEqual(x.Shape)).ToList();
        var y = PickFrom(sameOnPath);
        int dim = _rng.Next(-x.Rank, x.Rank);
        var forms = new List<string>
        {
            $"{x.Name}.cumsum({dim})", $"torch.cumsum({x.Name}, {dim})", $"{x.Name}.log()", $"torch.log({x.Name})", $"{x.Name}.abs()",
            $"torch.abs({x.Name})", $"{x.Name} / {y.Name}", $"{x.Name}.div({y.Name})", $"torch.div({x.Name}, {y.Name})", $"torch.rsqrt({x.Name})",
            $"{x.Name}.rsqrt()", $"{x.Name}.sqrt()", $"{x.Name}.pow(2.0)", $"1.0 / {x.Name}",
        };
        if (_config.On("reject-sincos")) forms.AddRange(new[] { $"{x.Name}.sin()", $"torch.cos({x.Name})", $"torch.sin({x.Name})", $"{x.Name}.cos()" });
        Emit(cls, block, PickFrom(forms), "null!", x.Shape, true, false, true, tainted: true, MaybeReplace(block, x), comment: " " + RejectMarker);
        _rejected = true;
    }
}
