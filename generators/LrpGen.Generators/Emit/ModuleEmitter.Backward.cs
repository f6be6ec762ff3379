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
            _w.Line($"// reverse of: {c.Source}  ({c.Where})");
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

        private void Step(Op op)
        {
            string g = _plan.G(op.Output);
            _w.Line($"// [{OpTable.Of(op.Kind).RuleName(op)}] {op.Source}  ({op.Where})");
            if (op.Kind == OpKind.Child)
                _w.Line($"{P}ctx.AtGradient({_plan.FrameOfOp[op.Id]}.p{op.Id}, ref {g}); // latent relevance and seeds at \"{op.PointName}\"");
            _w.Open($"if ({g} is not null)");
            foreach (var line in StepBody(op, g))
                if (line.Length > 0) _w.Line(line);
            _w.Line(V(op.Output).IsArray ? $"{Rules}.Grad.Release(ref {g});" : $"{Rules}.Grad.Release(ref {g});");
            _w.Close();
        }

        private IEnumerable<string> StepBody(Op op, string g)
        {
            var site = new Site(_plan, op, g);
            var general = OpTable.Of(op.Kind).Backward(op, site);
            return _plan.GateChains.TryGetValue(op.Id, out var chain) ? _plan.GateChainBackward(chain, site.Frame, g, general, site.Add) : general;
        }
    }

    /// <summary>One backward step's view of the plan, for the op table's runtime calls.</summary>
    private sealed class Site : IBackwardSite
    {
        private readonly Plan _plan;
        private readonly Op _op;

        public Site(Plan plan, Op op, string g)
        {
            _plan = plan;
            _op = op;
            G = g;
        }

        public string P => _plan.P;
        public string G { get; }
        public string Frame => _plan.FrameOfOp[_op.Id];
        public string Arg(string name) => _plan.Arg(_op, name);
        public string Saved(int value) => _plan.SavedRef(value);
        public bool IsSaved(int value) => _plan.Saved.Contains(value);
        public bool Receives(int value) => _plan.Live.Contains(value);
        public string ReceivesExpr(int value) => _plan.ReceivesExpr(value);
        public bool IsGate(int value) => _plan.Values[value].IsGate;
        public string Add(int input, string contribution) =>
            _plan.Live.Contains(input) ? $"{Rules}.Grad.Add(ref {_plan.G(input)}, {contribution});" : "";
        public string GradOf(int value) => _plan.G(value);
        public Op? Producer(int value) => _plan.Producer.TryGetValue(value, out var op) ? op : null;
        public string FrameOf(Op op) => _plan.FrameOfOp[op.Id];
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
        foreach (var chain in plan.GateChains.Values)
            Field(plan.FrameOfOp[chain.Product.Id], chain.Field, $"{TensorType}?", true);
        foreach (var s in Plan.All(model.Body))
        {
            switch (s)
            {
                case OpStmt { Op: var op } when plan.IsLive(op):
                {
                    string frame = plan.FrameOfOp[op.Id];
                    var entry = OpTable.Of(op.Kind);
                    foreach (var arg in op.Args.Where(a => !a.Stable && !entry.ForwardOnlyArg(a)))
                        Field(frame, $"d{op.Id}_{arg.Name}", arg.Type, false);
                    foreach (var field in entry.Fields)
                        if (field.Name(op) is { Length: > 0 } name) Field(frame, name, field.Type(op), field.Dispose);
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
