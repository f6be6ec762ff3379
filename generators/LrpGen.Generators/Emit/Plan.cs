using System.Collections.Generic;
using System.Linq;
using LrpGen.Generators.Ir;

namespace LrpGen.Generators.Emit;

/// <summary>Analyses of the IR the emitter needs: where each value is defined, which values and operations the
/// backward reaches (relevance liveness), what the tape must keep, and when forward values die.</summary>
internal sealed partial class Plan
{
    public readonly ModuleModel Model;
    public readonly Dictionary<int, ValueInfo> Values;
    /// <summary>Values that receive a modified gradient (on the path and reaching the output).</summary>
    public readonly HashSet<int> Live = new();
    /// <summary>Values the backward reads, kept on the tape.</summary>
    public readonly HashSet<int> Saved = new();

    /// <summary>For saved values only some methods read: the C# condition under which the tape keeps them (values
    /// that only the gradient baseline reads, like the input of a normaliser's rsqrt, are not kept under the rules).</summary>
    public readonly Dictionary<int, string> SaveCondition = new();

    /// <summary>The prefix of every identifier the generated code introduces ("" when no user name clashes).</summary>
    public readonly string P;

    /// <summary>The save condition of values only the gradient baseline reads.</summary>
    public string GradientOnly => $"!{P}ctx.RulesActive";
    /// <summary>The frame (tape or loop frame) variable holding fields for values defined in a region.</summary>
    public readonly Dictionary<int, string> FrameOfValue = new();
    public readonly Dictionary<int, string> FrameOfOp = new();
    public readonly Dictionary<int, Op> Producer = new();
    public readonly int ReturnValue = -1;

    public Plan(ModuleModel model)
    {
        Model = model;
        P = model.Prefix;
        Values = model.Values.ToDictionary(v => v.Id);
        foreach (var p in model.Parameters.Where(p => p.ValueId >= 0)) FrameOfValue[p.ValueId] = $"{P}tape";
        IndexRegion(model.Body, $"{P}tape");
        ReturnValue = model.Body.Statements.OfType<ReturnStmt>().Select(r => r.Value).DefaultIfEmpty(-1).First();
        MarkLive();
        CollectSaves(model.Body);
    }

    public static IEnumerable<Stmt> All(Region region)
    {
        foreach (var s in region.Statements)
        {
            yield return s;
            if (s is ControlStmt c)
            {
                foreach (var inner in All(c.Body)) yield return inner;
                if (c.Else is not null) foreach (var inner in All(c.Else)) yield return inner;
            }
        }
    }

    private void IndexRegion(Region region, string frame)
    {
        foreach (var s in region.Statements)
        {
            switch (s)
            {
                case OpStmt { Op: var op }:
                    FrameOfValue[op.Output] = frame;
                    FrameOfOp[op.Id] = frame;
                    Producer[op.Output] = op;
                    break;
                case ControlStmt c:
                    string inner = c.Kind == ControlKind.Loop ? P + "f" + c.Id : frame;
                    foreach (var cv in c.Carried)
                    {
                        if (cv.BodyEntry >= 0) FrameOfValue[cv.BodyEntry] = inner;
                        if (cv.ElseEntry >= 0) FrameOfValue[cv.ElseEntry] = inner;
                        FrameOfValue[cv.OuterOut] = frame;
                    }
                    IndexRegion(c.Body, inner);
                    if (c.Else is not null) IndexRegion(c.Else, inner);
                    break;
            }
        }
    }

    /// <summary>The inputs of an operation that receive relevance from it.</summary>
    public IEnumerable<int> RelevanceInputs(Op op) => OpTable.RelevanceInputs(op.Kind, op.Inputs);

    private void MarkLive()
    {
        if (ReturnValue < 0 || !Values[ReturnValue].OnPath) return;
        Live.Add(ReturnValue);
        bool changed = true;
        while (changed)
        {
            int before = Live.Count;
            MarkRegion(Model.Body);
            changed = Live.Count != before;
        }
    }

    private void MarkRegion(Region region)
    {
        for (int i = region.Statements.Count - 1; i >= 0; i--)
        {
            switch (region.Statements[i])
            {
                case OpStmt { Op: var op } when Live.Contains(op.Output):
                    foreach (var input in RelevanceInputs(op))
                        if (Values[input].OnPath) Live.Add(input);
                    break;
                case ControlStmt c:
                    foreach (var cv in c.Carried.Where(cv => Live.Contains(cv.OuterOut)))
                    {
                        Live.Add(cv.BodyExit);
                        if (cv.ElseExit >= 0) Live.Add(cv.ElseExit);
                        else if (cv.OuterIn >= 0 && Values[cv.OuterIn].OnPath) Live.Add(cv.OuterIn);
                    }
                    MarkRegion(c.Body);
                    if (c.Else is not null) MarkRegion(c.Else);
                    foreach (var cv in c.Carried)
                        if (cv.OuterIn >= 0 && (Live.Contains(cv.BodyEntry) || (cv.ElseEntry >= 0 && Live.Contains(cv.ElseEntry))) && Values[cv.OuterIn].OnPath)
                            Live.Add(cv.OuterIn);
                    break;
            }
        }
    }

    /// <summary>Whether the backward step of an operation runs.</summary>
    public bool IsLive(Op op) => Live.Contains(op.Output);

    /// <summary>The tensor values an operation's backward reads.</summary>
    public IEnumerable<int> SavedBy(Op op) => OpTable.Of(op.Kind).Saves(op, Live.Contains);

    private void CollectSaves(Region region)
    {
        var always = new HashSet<int>();
        foreach (var op in All(region).OfType<OpStmt>().Select(s => s.Op).Where(IsLive))
            foreach (var v in SavedBy(op))
            {
                Saved.Add(v);
                if (SaveNeed(op, v) == "") always.Add(v);
            }
        foreach (var v in Saved)
            if (!always.Contains(v)) SaveCondition[v] = GradientOnly;
    }

    /// <summary>When an operation's backward reads a saved value: "" always, or only for the gradient baseline
    /// (the operation runs only then, or the value feeds only an input that receives relevance only then).</summary>
    private string SaveNeed(Op op, int value)
    {
        bool runsAlways = Values[op.Output].OnPathUnderRules;
        bool Receives(int v) => Live.Contains(v) && Values[v].OnPathUnderRules;
        if (!runsAlways) return GradientOnly;
        return OpTable.Of(op.Kind).SavedFor(op, value) is int reader && !Receives(reader) ? GradientOnly : "";
    }

    /// <summary>The name of the modified-gradient accumulator of a value.</summary>
    public string G(int value)
    {
        var name = Values[value].CName.TrimStart('@');
        return _sharedNames.Contains(name) ? $"{P}g_{name}_{value}" : $"{P}g_{name}";
    }

    private HashSet<string>? _sharedNamesCache;
    private HashSet<string> _sharedNames => _sharedNamesCache ??= new HashSet<string>(
        Values.Values.GroupBy(v => v.CName.TrimStart('@')).Where(g => g.Count() > 1).Select(g => g.Key));

    /// <summary>The class of the frame a frame variable refers to.</summary>
    public string FrameClass(string frame) => frame == $"{P}tape" ? "LrpTape" : "LrpFrame" + frame.Substring(P.Length + 1);

    /// <summary>The C# expression reading a saved value from the backward.</summary>
    public string SavedRef(int value) => $"{FrameOfValue[value]}.v{value}";

    public string ArgRef(Op op, OpArg arg) => arg.Stable ? arg.Expr : $"{FrameOfOp[op.Id]}.d{op.Id}_{arg.Name}";

    public string Arg(Op op, string name) => ArgRef(op, op.Args.First(a => a.Name == name));

    /// <summary>"true"/"false", or a run-time test when the value is a constant only under the LRP rules.</summary>
    public string ReceivesExpr(int value)
    {
        if (!Live.Contains(value)) return "false";
        return Values[value].OnPathUnderRules ? "true" : $"!{P}ctx.RulesActive";
    }
}
