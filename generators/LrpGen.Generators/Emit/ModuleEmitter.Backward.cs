using System.Collections.Generic;
using System.Linq;
using LrpGen.Generators.Ir;

namespace LrpGen.Generators.Emit;

internal static partial class ModuleEmitter
{
    private static void EmitBackwardCore(IndentedWriter w, ModuleModel model, Plan plan)
    {
        string P = plan.P;
        w.Line("/// <summary>The relevance backward: explains sum(gOutput * output). Returns the modified gradient of each");
        w.Line("/// forward parameter by position (token-id parameters: their relevance), null where none flows.</summary>");
        w.Line("[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
        w.Open($"public {TensorType}?[] LrpBackwardCore(global::LrpGen.LrpContext {P}ctx, LrpTape {P}tape, {TensorType} {P}gOutput)");
        foreach (var p in model.Parameters.Where(p => p.ValueId >= 0 && plan.Live.Contains(p.ValueId)))
            w.Line($"{TensorType}? {plan.G(p.ValueId)} = null;");
        new BackwardWriter(w, plan).Region(model.Body, $"{P}tape");
        var results = model.Parameters.Select(p => p.ValueId >= 0 && plan.Live.Contains(p.ValueId) ? plan.G(p.ValueId) : "null");
        w.Line($"return new {TensorType}?[] {{ {string.Join(", ", results)} }};");
        w.Close();
    }

    /// <summary>Writes the backward: statements in reverse, one commented rule application per operation.</summary>
    private sealed class BackwardWriter
    {
        private readonly IndentedWriter _w;
        private readonly Plan _plan;

        private string P => _plan.P;

        public BackwardWriter(IndentedWriter w, Plan plan)
        {
            _w = w;
            _plan = plan;
        }

        private ValueInfo V(int id) => _plan.Values[id];

        private string Decl(int value) => V(value).IsArray ? $"{TensorType}?[]?" : $"{TensorType}?";

        public void Region(Region region, string frame, IEnumerable<int>? definedAtStart = null)
        {
            var defined = (definedAtStart ?? Enumerable.Empty<int>())
                .Concat(region.Statements.SelectMany(s => s switch
                {
                    OpStmt { Op: var op } => new[] { op.Output },
                    ControlStmt c => c.Carried.Select(cv => cv.OuterOut).ToArray(),
                    _ => new int[0],
                }))
                .Where(_plan.Live.Contains).ToList();
            foreach (var v in defined) _w.Line($"{Decl(v)} {_plan.G(v)} = null;");

            for (int i = region.Statements.Count - 1; i >= 0; i--)
            {
                switch (region.Statements[i])
                {
                    case ReturnStmt r when _plan.Live.Contains(r.Value):
                        _w.Line($"// seed: {r.Source}");
                        _w.Line($"{Rules}.Grad.Add(ref {_plan.G(r.Value)}, {P}gOutput.alias());");
                        break;
                    case OpStmt { Op: var op } when _plan.IsLive(op):
                        Step(op);
                        break;
                    case ControlStmt c when c.Carried.Any(cv => _plan.Live.Contains(cv.OuterOut)) || HasLiveOps(c):
                        Control(c, frame);
                        break;
                }
            }
        }

        private bool HasLiveOps(ControlStmt c) =>
            Plan.All(c.Body).Concat(c.Else is null ? Enumerable.Empty<Stmt>() : Plan.All(c.Else)).OfType<OpStmt>().Any(s => _plan.IsLive(s.Op));

        private void Control(ControlStmt c, string frame)
        {
            var carried = c.Carried.Where(cv => _plan.Live.Contains(cv.OuterOut)).ToList();
            _w.Line($"// reverse of: {c.Source}  (line {c.Line})");
            _w.Open("");
            foreach (var cv in carried)
            {
                _w.Line($"var {P}gc_{cv.CName} = {_plan.G(cv.OuterOut)};");
                _w.Line($"{_plan.G(cv.OuterOut)} = null;");
            }
            if (c.Kind == ControlKind.Loop)
            {
                _w.Open($"for (int {P}i{c.Id} = {frame}.loop{c.Id}.Count - 1; {P}i{c.Id} >= 0; {P}i{c.Id}--)");
                _w.Line($"var {P}f{c.Id} = {frame}.loop{c.Id}[{P}i{c.Id}];");
                Body(c.Body, P + "f" + c.Id, carried.Select(cv => (cv.BodyEntry, cv.BodyExit, cv.CName)).ToList());
                _w.Close();
            }
            else
            {
                _w.Open($"if ({frame}.b{c.Id})");
                Body(c.Body, frame, carried.Select(cv => (cv.BodyEntry, cv.BodyExit, cv.CName)).ToList());
                _w.Close();
                if (c.Else is not null)
                {
                    _w.Open("else");
                    Body(c.Else, frame, carried.Select(cv => (cv.ElseEntry, cv.ElseExit, cv.CName)).ToList());
                    _w.Close();
                }
            }
            foreach (var cv in carried)
                if (cv.OuterIn >= 0 && _plan.Live.Contains(cv.OuterIn)) _w.Line($"{Rules}.Grad.Add(ref {_plan.G(cv.OuterIn)}, {P}gc_{cv.CName});");
                else _w.Line($"{P}gc_{cv.CName}?.Dispose();");
            _w.Close();
        }

        private void Body(Region body, string frame, List<(int Entry, int Exit, string Carry)> carried)
        {
            var entries = carried.Select(c => c.Entry).Where(e => e >= 0 && _plan.Live.Contains(e)).ToList();
            // Exit accumulators are declared by the region (exits are defined in it, or are the entries).
            _w.Open("");
            Region(new Region(EquatableArray<Stmt>.Empty), frame, entries);
            var seeded = new List<Stmt>();
            foreach (var (entry, exit, carry) in carried)
                seeded.Add(new CodeStmt($"{Rules}.Grad.Add(ref {_plan.G(exit)}, {P}gc_{carry});\n{P}gc_{carry} = null;", EquatableArray<int>.Empty));
            RegionWithSeed(body, frame, seeded);
            foreach (var (entry, _, carry) in carried)
                _w.Line(entry >= 0 && _plan.Live.Contains(entry) ? $"{P}gc_{carry} = {_plan.G(entry)};" : $"{P}gc_{carry} = null;");
            _w.Close();
        }

        /// <summary>A body's backward: declare its accumulators, seed the exits with the carried gradients, then reverse it.</summary>
        private void RegionWithSeed(Region body, string frame, List<Stmt> seeds)
        {
            var defined = body.Statements.SelectMany(s => s switch
            {
                OpStmt { Op: var op } => new[] { op.Output },
                ControlStmt c => c.Carried.Select(cv => cv.OuterOut).ToArray(),
                _ => new int[0],
            }).Where(_plan.Live.Contains).ToList();
            foreach (var v in defined) _w.Line($"{Decl(v)} {_plan.G(v)} = null;");
            foreach (var s in seeds.OfType<CodeStmt>())
                foreach (var line in s.Text.Split('\n')) _w.Line(line);
            var inner = new Region(body.Statements);
            for (int i = inner.Statements.Count - 1; i >= 0; i--)
            {
                switch (inner.Statements[i])
                {
                    case OpStmt { Op: var op } when _plan.IsLive(op):
                        Step(op);
                        break;
                    case ControlStmt c when c.Carried.Any(cv => _plan.Live.Contains(cv.OuterOut)) || HasLiveOps(c):
                        Control(c, frame);
                        break;
                }
            }
        }

        private string Add(int input, string contribution) =>
            _plan.Live.Contains(input) ? $"{Rules}.Grad.Add(ref {_plan.G(input)}, {contribution});" : "";

        private void Step(Op op)
        {
            string g = _plan.G(op.Output);
            _w.Line($"// [{RuleName(op)}] {op.Source}  (line {op.Line})");
            if (op.Kind == OpKind.Child)
                _w.Line($"{P}ctx.AtGradient({_plan.FrameOfOp[op.Id]}.p{op.Id}, ref {g}); // latent relevance and seeds at \"{op.PointName}\"");
            _w.Open($"if ({g} is not null)");
            foreach (var line in StepBody(op, g))
                if (line.Length > 0) _w.Line(line);
            _w.Line(V(op.Output).IsArray ? $"{Rules}.Grad.Release(ref {g});" : $"{Rules}.Grad.Release(ref {g});");
            _w.Close();
        }

        private string Saved(int value) => _plan.SavedRef(value);

        private IEnumerable<string> StepBody(Op op, string g)
        {
            string A(string name) => _plan.Arg(op, name);
            int x = op.Inputs.Count > 0 ? op.Inputs[0] : -1;
            switch (op.Kind)
            {
                case OpKind.Identity:
                    yield return Add(x, $"{Rules}.Adjoint.Identity({g})");
                    break;
                case OpKind.Reshape:
                    yield return Add(x, $"{Rules}.Adjoint.Reshape({g}, {A("inputShape")})");
                    break;
                case OpKind.Transpose:
                    yield return Add(x, $"{Rules}.Adjoint.Transpose({g}, {A("dim0")}, {A("dim1")})");
                    break;
                case OpKind.Permute:
                    yield return Add(x, $"{Rules}.Adjoint.Permute({g}, {A("dims")})");
                    break;
                case OpKind.Expand:
                    yield return Add(x, $"{Rules}.Adjoint.Expand({g}, {A("inputShape")})");
                    break;
                case OpKind.RepeatInterleave:
                    yield return Add(x, $"{Rules}.Adjoint.RepeatInterleave({g}, {A("repeats")}, {A("dim")}, {A("inputShape")})");
                    break;
                case OpKind.IndexSelect:
                    yield return Add(x, $"{Rules}.Adjoint.IndexSelect({g}, {A("dim")}, {Saved(op.Inputs[1])}, {A("inputShape")})");
                    break;
                case OpKind.Narrow:
                    yield return Add(x, $"{Rules}.Adjoint.Narrow({g}, {A("dim")}, {A("start")}, {A("length")}, {A("inputShape")})");
                    break;
                case OpKind.Index:
                    yield return Add(x, $"{Rules}.Adjoint.Index({g}, {A("indices")}, {A("inputShape")})");
                    break;
                case OpKind.Cat:
                    for (int i = 0; i < op.Inputs.Count; i++)
                        yield return Add(op.Inputs[i], $"{Rules}.Adjoint.CatPart({g}, {A("dim")}, {A("sizes")}, {i})");
                    break;
                case OpKind.Chunk:
                    yield return Add(x, $"{Rules}.Adjoint.Split({g}, {A("dim")}, {_plan.FrameOfOp[op.Id]}.d{op.Id}_sizes, {A("inputShape")})");
                    break;
                case OpKind.Element:
                {
                    var chunk = _plan.Producer.TryGetValue(x, out var p) ? p : null;
                    string count = chunk is not null && chunk.Kind == OpKind.Chunk ? $"{_plan.FrameOfOp[chunk.Id]}.d{chunk.Id}_sizes.Length" : "0";
                    yield return $"{Rules}.Grad.AddAt(ref {_plan.G(x)}, {A("index")}, {count}, {g});";
                    yield return $"{g} = null;";
                    break;
                }
                case OpKind.Sum:
                    yield return Add(x, $"{Rules}.Adjoint.Sum({g}, {A("dims")}, {A("keepdim")}, {A("inputShape")})");
                    break;
                case OpKind.Mean:
                    yield return Add(x, $"{Rules}.Adjoint.Mean({g}, {A("dims")}, {A("keepdim")}, {A("inputShape")})");
                    break;
                case OpKind.Scale:
                    yield return Add(x, $"{Rules}.Adjoint.Scale({g}, {A("factor")})");
                    break;
                case OpKind.Negate:
                    yield return Add(x, $"{Rules}.Adjoint.Negate({g})");
                    break;
                case OpKind.AddSub:
                    yield return Add(op.Inputs[0], $"{Rules}.Adjoint.AddOperand({g}, {A("aShape")}, negate: false)");
                    yield return Add(op.Inputs[1], $"{Rules}.Adjoint.AddOperand({g}, {A("bShape")}, negate: {(op.Detail == "sub" ? "true" : "false")})");
                    break;
                case OpKind.Mul or OpKind.Matmul:
                {
                    int a = op.Inputs[0], b = op.Inputs[1];
                    string fn = op.Kind == OpKind.Mul ? "ElementwiseBackward" : "MatmulBackward";
                    string aRef = _plan.Saved.Contains(a) && _plan.Live.Contains(b) ? Saved(a) : "null";
                    string bRef = _plan.Saved.Contains(b) && _plan.Live.Contains(a) ? Saved(b) : "null";
                    yield return $"var ({P}ga, {P}gb) = {Rules}.ProductRule.{fn}({P}ctx, {g}, {aRef}, {bRef}, {A("aShape")}, {A("bShape")},";
                    yield return $"    aOnPath: {_plan.ReceivesExpr(a)}, bOnPath: {_plan.ReceivesExpr(b)}, aIsGate: {B(V(a).IsGate)}, bIsGate: {B(V(b).IsGate)}, cpForced: {B(op.CpForced)});";
                    yield return _plan.Live.Contains(a) ? Add(a, $"{P}ga") : $"{P}ga?.Dispose();";
                    yield return _plan.Live.Contains(b) ? Add(b, $"{P}gb") : $"{P}gb?.Dispose();";
                    break;
                }
                case OpKind.Div:
                {
                    int a = op.Inputs[0], b = op.Inputs[1];
                    yield return Add(a, $"{Rules}.PointwiseAdjoint.DivNumerator({g}, {Saved(b)}, {A("aShape")})");
                    if (_plan.Live.Contains(b))
                        yield return $"if ({_plan.ReceivesExpr(b)}) {Add(b, $"{Rules}.PointwiseAdjoint.DivDenominator({g}, {Saved(a)}, {Saved(b)})")}";
                    break;
                }
                case OpKind.Einsum:
                {
                    int a = op.Inputs[0], b = op.Inputs.Count > 1 ? op.Inputs[1] : -1;
                    yield return $"var ({P}ga, {P}gb) = {Rules}.EinsumRule.Backward({P}ctx, {g}, {A("equation")}, {Saved(a)}, {(b >= 0 ? Saved(b) : "null")},";
                    yield return $"    aOnPath: {_plan.ReceivesExpr(a)}, bOnPath: {(b >= 0 ? _plan.ReceivesExpr(b) : "false")}, aIsGate: {B(V(a).IsGate)}, bIsGate: {B(b >= 0 && V(b).IsGate)}, cpForced: {B(op.CpForced)});";
                    yield return _plan.Live.Contains(a) ? Add(a, $"{P}ga") : $"{P}ga?.Dispose();";
                    yield return b >= 0 && _plan.Live.Contains(b) ? Add(b, $"{P}gb") : $"{P}gb?.Dispose();";
                    break;
                }
                case OpKind.Selection:
                    yield return Add(x, $"{Rules}.SelectionAdjoint.Gathered({g}, {_plan.FrameOfOp[op.Id]}.s{op.Id}, {A("dim")}, {A("inputShape")})");
                    break;
                case OpKind.Where:
                    yield return Add(op.Inputs[1], $"{Rules}.SelectionAdjoint.WhereBranch({g}, {Saved(op.Inputs[0])}, {A("aShape")}, whereTrue: true)");
                    yield return Add(op.Inputs[2], $"{Rules}.SelectionAdjoint.WhereBranch({g}, {Saved(op.Inputs[0])}, {A("bShape")}, whereTrue: false)");
                    break;
                case OpKind.Select:
                    yield return Add(x, $"{Rules}.SelectionAdjoint.Select({g}, {A("dim")}, {A("index")}, {A("inputShape")})");
                    break;
                case OpKind.Triangle:
                    yield return Add(x, $"{Rules}.SelectionAdjoint.Triangle({g}, upper: {B(op.Detail == "triu")}, {A("diagonal")})");
                    break;
                case OpKind.Stack:
                    for (int i = 0; i < op.Inputs.Count; i++)
                        yield return Add(op.Inputs[i], $"{Rules}.SelectionAdjoint.StackPart({g}, {A("dim")}, {i})");
                    break;
                case OpKind.Softmax:
                    yield return Add(x, op.Args.Any(a => a.Name == "inputType")
                        ? $"{Rules}.SoftmaxRule.Backward({g}, {Saved(op.Output)}, {A("dim")}, {A("inputType")})"
                        : $"{Rules}.SoftmaxRule.Backward({g}, {Saved(op.Output)}, {A("dim")})");
                    break;
                case OpKind.Activation or OpKind.CustomElementwise:
                    yield return Add(x, $"{Rules}.ActivationRule.Backward({g}, {_plan.FrameOfOp[op.Id]}.s{op.Id})");
                    break;
                case OpKind.Linear:
                {
                    string module = A("module");
                    string gx = P + "gx" + op.Id;
                    yield return op.Gamma >= 0
                        ? $"{TensorType}? {gx} = {Rules}.GammaRule.LinearBackward({P}ctx, {g}, {Saved(x)}, {module}.weight, {module}.bias, {Saved(op.Output)}, {P}ctx.Gamma({module}, {F(op.Gamma)}));"
                        : $"{TensorType}? {gx} = {Rules}.LinearRule.Backward({P}ctx, {g}, {module}.weight, {(op.Epsilon > 0 ? Saved(op.Output) : "null")}, {F(op.Epsilon)});";
                    yield return $"{P}ctx.AtGradient({_plan.FrameOfOp[op.Id]}.p{op.Id}, ref {gx}); // latent relevance and seeds at \"{op.PointName}\" (input)";
                    yield return _plan.Live.Contains(x) ? Add(x, gx) : $"{gx}?.Dispose();";
                    break;
                }
                case OpKind.Conv2d:
                {
                    string module = A("module");
                    string gx = P + "gx" + op.Id;
                    yield return op.Gamma >= 0
                        ? $"{TensorType}? {gx} = {Rules}.GammaRule.Conv2dBackward({P}ctx, {g}, {Saved(x)}, {module}, {Saved(op.Output)}, {P}ctx.Gamma({module}, {F(op.Gamma)}));"
                        : $"{TensorType}? {gx} = {Rules}.ConvRule.Conv2dBackward({P}ctx, {g}, {module}, {A("inputShape")}, {(op.Epsilon > 0 ? Saved(op.Output) : "null")}, {F(op.Epsilon)});";
                    yield return $"{P}ctx.AtGradient({_plan.FrameOfOp[op.Id]}.p{op.Id}, ref {gx}); // latent relevance and seeds at \"{op.PointName}\" (input)";
                    yield return _plan.Live.Contains(x) ? Add(x, gx) : $"{gx}?.Dispose();";
                    break;
                }
                case OpKind.Sequential:
                    yield return Add(x, $"{Rules}.SequentialRule.Backward({P}ctx, {_plan.FrameOfOp[op.Id]}.q{op.Id}, {g})");
                    break;
                case OpKind.LinearFunctional:
                    yield return op.Gamma >= 0
                        ? Add(x, $"{Rules}.GammaRule.LinearBackward({P}ctx, {g}, {Saved(x)}, {Saved(op.Inputs[1])}, null, {Saved(op.Output)}, {F(op.Gamma)})")
                        : Add(x, $"{Rules}.LinearRule.Backward({P}ctx, {g}, {Saved(op.Inputs[1])}, {(op.Epsilon > 0 ? Saved(op.Output) : "null")}, {F(op.Epsilon)})");
                    break;
                case OpKind.LayerNorm:
                {
                    string weight = op.Detail == "functional"
                        ? (op.Args.First(a => a.Name == "weight").Expr == "null" ? "null" : Saved(op.Inputs[1]))
                        : A("weight");
                    yield return Add(x, $"{Rules}.LayerNormRule.Backward({P}ctx, {g}, {Saved(x)}, {weight}, {A("eps")}, {A("dims")})");
                    break;
                }
                case OpKind.Embedding:
                    yield return Add(x, $"{Rules}.EmbeddingRule.TokenRelevance({Saved(op.Output)}, {g})");
                    break;
                case OpKind.MaskedFill:
                    yield return Add(x, $"{Rules}.Adjoint.MaskedFill({g}, {Saved(op.Inputs[1])})");
                    break;
                case OpKind.ToDtype:
                    yield return Add(x, $"{Rules}.Adjoint.ToLike({g}, {A("dtype")}, {A("device")})");
                    break;
                case OpKind.Rsqrt:
                    yield return Add(x, $"{Rules}.PointwiseAdjoint.Rsqrt({g}, {Saved(op.Output)})");
                    break;
                case OpKind.Sqrt:
                    yield return Add(x, $"{Rules}.PointwiseAdjoint.Sqrt({g}, {Saved(op.Output)})");
                    break;
                case OpKind.Pow:
                    yield return Add(x, $"{Rules}.PointwiseAdjoint.Pow({g}, {Saved(x)}, {A("exponent")})");
                    break;
                case OpKind.Child:
                {
                    string f = _plan.FrameOfOp[op.Id];
                    yield return $"{P}ctx.Enter({f}.p{op.Id});";
                    if (op.Args.Any(a => a.Name == "recomputable"))
                    {
                        string inputs = string.Join(", ", op.Inputs.Select((_, i) => $"{f}.k{op.Id}[{i}]"));
                        yield return $"if ({f}.k{op.Id} is not null) {A("module")}.LrpForwardCore({P}ctx, {f}.c{op.Id} = new {op.Detail}.LrpTape(), {inputs}).Dispose(); // recompute the block";
                    }
                    yield return $"var {P}gs = {A("module")}.LrpBackwardCore({P}ctx, {f}.c{op.Id}, {g});";
                    if (op.Args.Any(a => a.Name == "recomputable"))
                        yield return $"if ({f}.k{op.Id} is not null) {{ {f}.c{op.Id}!.Dispose(); {f}.c{op.Id} = null; }}";
                    yield return $"{P}ctx.Exit();";
                    for (int i = 0; i < op.Inputs.Count; i++)
                    {
                        int p = op.InputParamIndices[i];
                        yield return _plan.Live.Contains(op.Inputs[i]) ? Add(op.Inputs[i], $"{P}gs[{p}]") : $"{P}gs[{p}]?.Dispose();";
                    }
                    break;
                }
            }
        }

        private static string B(bool b) => b ? "true" : "false";

        private static string RuleName(Op op) => op.Kind switch
        {
            OpKind.Sequential => "Sequential: each child's rule",
            OpKind.Linear or OpKind.LinearFunctional or OpKind.Conv2d => op.Gamma >= 0 ? $"gamma {F(op.Gamma)}" : $"epsilon {F(op.Epsilon)}",
            OpKind.Mul => "uniform (product)",
            OpKind.Matmul => "uniform (matmul)",
            OpKind.Einsum => op.Inputs.Count == 2 ? "uniform (einsum)" : "exact adjoint: einsum",
            OpKind.Softmax => "softmax: Taylor at x (plain gradient)",
            OpKind.Activation => $"identity ({op.Detail})",
            OpKind.CustomElementwise => $"identity ({op.Detail})",
            OpKind.LayerNorm => "norm identity (LayerNorm)",
            OpKind.Embedding => "embedding: token relevance",
            OpKind.Child => "child module's generated backward",
            OpKind.Div => "division (constant denominator under [NormIdentity])",
            OpKind.Rsqrt or OpKind.Sqrt or OpKind.Pow => "gradient only: constant under [NormIdentity]",
            OpKind.AddSub => "epsilon 0 (sum)",
            _ => "exact adjoint: " + op.Kind.ToString().ToLowerInvariant(),
        };
    }

    // ------------------------------------------------------------------ tape and frames

    private static void EmitFrames(IndentedWriter w, ModuleModel model, Plan plan)
    {
        string P = plan.P;
        var fields = new Dictionary<string, List<(string Name, string Type, bool Dispose)>>();
        void Field(string frame, string name, string type, bool dispose)
        {
            if (!fields.TryGetValue(frame, out var list)) fields[frame] = list = new();
            if (!list.Any(f => f.Name == name)) list.Add((name, type, dispose));
        }
        fields[$"{P}tape"] = new();

        foreach (var v in plan.Saved)
        {
            var info = plan.Values[v];
            Field(plan.FrameOfValue[v], "v" + v, info.IsArray ? $"{TensorType}[]?" : $"{TensorType}?", true);
        }
        foreach (var s in Plan.All(model.Body))
        {
            switch (s)
            {
                case OpStmt { Op: var op } when plan.IsLive(op):
                {
                    string frame = plan.FrameOfOp[op.Id];
                    foreach (var arg in op.Args.Where(a => !a.Stable && !IsForwardOnly(op, a)))
                        Field(frame, $"d{op.Id}_{arg.Name}", arg.Type, false);
                    if (op.Kind == OpKind.Chunk) Field(frame, $"d{op.Id}_sizes", "long[]", false);
                    if (op.Kind is OpKind.Activation or OpKind.CustomElementwise or OpKind.Selection) Field(frame, $"s{op.Id}", $"{TensorType}?", true);
                    if (op.Kind == OpKind.Child) Field(frame, $"c{op.Id}", $"{op.Detail}.LrpTape?", true);
                    if (op.Kind == OpKind.Child && op.Args.Any(a => a.Name == "recomputable")) Field(frame, $"k{op.Id}", $"{TensorType}[]?", true);
                    if (op.Kind == OpKind.Sequential) Field(frame, $"q{op.Id}", $"{Rules}.SequentialRule.Tape?", true);
                    if (op.Kind is OpKind.Child or OpKind.Linear or OpKind.Conv2d) Field(frame, $"p{op.Id}", "global::LrpGen.LrpPoint?", true);
                    break;
                }
                case ControlStmt c:
                {
                    string frame = FrameOfControl(plan, model.Body, c.Id, $"{P}tape") ?? $"{P}tape";
                    if (c.Kind == ControlKind.Loop)
                    {
                        Field(frame, $"loop{c.Id}", $"global::System.Collections.Generic.List<LrpFrame{c.Id}>?", true);
                        if (!fields.ContainsKey(P + "f" + c.Id)) fields[P + "f" + c.Id] = new();
                    }
                    else Field(frame, $"b{c.Id}", "bool", false);
                    break;
                }
            }
        }

        bool first = true;
        foreach (var kv in fields.OrderBy(k => k.Key == $"{P}tape" ? -1 : int.Parse(k.Key.Substring(P.Length + 1), System.Globalization.CultureInfo.InvariantCulture)))
        {
            string cls = plan.FrameClass(kv.Key);
            if (!first) w.Line();
            first = false;
            w.Line(kv.Key == $"{P}tape"
                ? "/// <summary>What one forward keeps for its backward. Disposing it releases those tensors.</summary>"
                : "/// <summary>What one iteration of a loop keeps for the backward.</summary>");
            w.Line("[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
            w.Open($"public sealed class {cls} : global::System.IDisposable");
            foreach (var (name, type, _) in kv.Value) w.Line($"internal {type} {name};");
            if (kv.Value.Count > 0) w.Line();
            w.Open("public void Dispose()");
            foreach (var (name, type, dispose) in kv.Value.Where(f => f.Dispose))
            {
                if (type.StartsWith("global::System.Collections.Generic.List<", System.StringComparison.Ordinal))
                    w.Line($"if ({name} is not null) {{ foreach (var {P}frame in {name}) {P}frame.Dispose(); {name} = null; }}");
                else if (type.EndsWith("[]?", System.StringComparison.Ordinal))
                    w.Line($"if ({name} is not null) {{ foreach (var {P}t in {name}) {P}t.Dispose(); {name} = null; }}");
                else
                    w.Line($"{name}?.Dispose(); {name} = null;");
            }
            w.Close();
            w.Close();
        }
    }

    private static string? FrameOfControl(Plan plan, Region region, int id, string frame)
    {
        foreach (var s in region.Statements)
        {
            if (s is not ControlStmt c) continue;
            if (c.Id == id) return frame;
            string inner = c.Kind == ControlKind.Loop ? plan.P + "f" + c.Id : frame;
            var found = FrameOfControl(plan, c.Body, id, inner) ?? (c.Else is null ? null : FrameOfControl(plan, c.Else, id, inner));
            if (found is not null) return found;
        }
        return null;
    }
}
