using System.Collections.Generic;
using System.Linq;
using LrpGen.Generators.Ir;

namespace LrpGen.Generators.Emit;

/// <summary>An element-wise product whose one factor is an identity-rule activation (a gated MLP's
/// <c>silu(gate) * up</c>): the activation's input gradient is <c>g * share * other * scale</c>, so the tape can keep
/// that product's last three factors as one tensor instead of <c>other</c> and the activation's scale
/// (docs/performance.md, proposal 4).</summary>
/// <param name="Product">The <c>a * b</c> operation.</param>
/// <param name="Activations">The activation whose output is one factor of the product; or the two a branch on
/// configuration chooses between (<c>geluTanh ? gelu(g) : silu(g)</c>), of the same input, one of which ran.</param>
/// <param name="GateIndex">The position of the activation's output among the product's inputs (0 or 1).</param>
internal sealed record GateChain(Op Product, IReadOnlyList<Op> Activations, int GateIndex)
{
    public int Gate => Product.Inputs[GateIndex];
    public int Other => Product.Inputs[1 - GateIndex];
    /// <summary>The activation's input, which receives the folded step's gradient.</summary>
    public int Input => Activations[0].Inputs[0];
    /// <summary>The frame field that holds the folded factor.</summary>
    public string Field => $"f{Product.Id}";
}

internal sealed partial class Plan
{
    private Dictionary<int, GateChain>? _gateChains;

    /// <summary>The products whose gate chain is folded, by product op id. A chain qualifies when the gate (the
    /// activation's output) and the other factor are each read by the product alone (so the gate's gradient comes
    /// only from it and the other factor is not needed after it), the three operations share one region, and the
    /// activation's input receives relevance. Whether it is folded is then decided at run time (same shapes, a
    /// non-zero share: <c>LrpGen.Rules.GateChainRule.Fold</c>); otherwise the step runs in its general form.</summary>
    public IReadOnlyDictionary<int, GateChain> GateChains => _gateChains ??= FindGateChains();

    private Dictionary<int, GateChain> FindGateChains()
    {
        var chains = new Dictionary<int, GateChain>();
        var uses = CountUses(Model.Body);
        foreach (var region in Regions(Model.Body))
        {
            var ops = region.Statements.OfType<OpStmt>().Select(s => s.Op).ToList();
            foreach (var product in ops.Where(op => op.Kind == OpKind.Mul && IsLive(op) && op.Inputs[0] != op.Inputs[1]))
                for (int gateIndex = 0; gateIndex < 2; gateIndex++)
                {
                    int gate = product.Inputs[gateIndex], other = product.Inputs[1 - gateIndex];
                    var activations = ActivationsOf(region, gate);
                    if (activations is null || !Live.Contains(gate) || !Live.Contains(activations[0].Inputs[0])) continue;
                    if (activations.Any(a => FrameOfOp[a.Id] != FrameOfOp[product.Id])) continue;
                    if (!Saved.Contains(other) || !ops.Any(op => op.Output == other)) continue;
                    if (uses.TryGetValue(gate, out int g) && g != 1 || uses.TryGetValue(other, out int o) && o != 1) continue;
                    chains[product.Id] = new GateChain(product, activations, gateIndex);
                    break;
                }
        }
        return chains;
    }

    /// <summary>The identity-rule activation that defines <paramref name="gate"/> in the region, or the two that a
    /// branch of the region chooses between (each the branch's last value, both of one input); null if neither.</summary>
    private static IReadOnlyList<Op>? ActivationsOf(Region region, int gate)
    {
        static bool IsActivation(Op op) => op.Kind is OpKind.Activation or OpKind.CustomElementwise;
        static Op? Defining(Region r, int value) =>
            r.Statements.OfType<OpStmt>().Select(s => s.Op).FirstOrDefault(op => op.Output == value && IsActivation(op));
        if (Defining(region, gate) is { } direct) return new[] { direct };
        foreach (var c in region.Statements.OfType<ControlStmt>().Where(c => c.Kind == ControlKind.If && c.Else is not null))
            foreach (var cv in c.Carried.Where(cv => cv.OuterOut == gate))
                if (Defining(c.Body, cv.BodyExit) is { } a && Defining(c.Else!, cv.ElseExit) is { } b && a.Inputs[0] == b.Inputs[0])
                    return new[] { a, b };
        return null;
    }

    private static IEnumerable<Region> Regions(Region region)
    {
        yield return region;
        foreach (var c in region.Statements.OfType<ControlStmt>())
        {
            foreach (var inner in Regions(c.Body)) yield return inner;
            if (c.Else is not null) foreach (var inner in Regions(c.Else)) yield return inner;
        }
    }

    /// <summary>How often each value is read anywhere: as an op input or a read of its forward expression, by code
    /// statements, conditions, carried variables and returns.</summary>
    private static Dictionary<int, int> CountUses(Region body)
    {
        var uses = new Dictionary<int, int>();
        void Use(int v) { if (v >= 0) uses[v] = uses.TryGetValue(v, out int n) ? n + 1 : 1; }
        foreach (var s in All(body))
            switch (s)
            {
                case OpStmt { Op: var op }:
                    foreach (var v in op.Inputs) Use(v);
                    foreach (var v in op.Reads) Use(v);
                    break;
                case CodeStmt code:
                    foreach (var v in code.Uses) Use(v);
                    break;
                case ReturnStmt r:
                    Use(r.Value);
                    break;
                case ControlStmt c:
                    foreach (var v in c.ConditionUses) Use(v);
                    foreach (var cv in c.Carried) { Use(cv.OuterIn); Use(cv.BodyExit); Use(cv.ElseExit); }
                    break;
            }
        return uses;
    }

    /// <summary>The forward line after the product: fold the other factor and the activation's scale into one tensor
    /// (the runtime disposes both when it folds).</summary>
    public string GateChainFold(GateChain chain, string frame)
    {
        // Fold declines without effect where the activation did not run (its scale is null): one call per candidate.
        var folds = chain.Activations.Select(a => $"global::LrpGen.Rules.GateChainRule.Fold({P}ctx, ref {frame}.s{a.Id}, ref {SavedRef(chain.Other)}, "
            + $"{Values[chain.Gate].CName}, gateIndex: {chain.GateIndex}, {Flags(chain.Product)})");
        return $"{frame}.{chain.Field} = {string.Join(" ?? ", folds)};";
    }

    /// <summary>The product's backward step when the chain was folded: the activation's input gets
    /// <c>g * folded</c> at once (its own step then has nothing to do), the other factor its usual share; else the
    /// general step.</summary>
    public IEnumerable<string> GateChainBackward(GateChain chain, string frame, string g, IEnumerable<string> general, System.Func<int, string, string> add)
    {
        var product = chain.Product;
        string gateRef = Saved.Contains(chain.Gate) && Live.Contains(chain.Other) ? SavedRef(chain.Gate) : "null";
        yield return $"if ({frame}.{chain.Field} is not null)";
        yield return "{";
        yield return $"    var ({P}gx, {P}gOther) = global::LrpGen.Rules.GateChainRule.Backward({P}ctx, {g}, {frame}.{chain.Field}, {gateRef}, "
            + $"{Arg(product, chain.GateIndex == 0 ? "bShape" : "aShape")}, gateIndex: {chain.GateIndex}, {Flags(product)});";
        yield return "    " + add(chain.Input, $"{P}gx");
        yield return "    " + (Live.Contains(chain.Other) ? add(chain.Other, $"{P}gOther") : $"{P}gOther?.Dispose();");
        yield return "}";
        yield return "else";
        yield return "{";
        foreach (var line in general) if (line.Length > 0) yield return "    " + line;
        yield return "}";
    }

    private string Flags(Op product)
    {
        int a = product.Inputs[0], b = product.Inputs[1];
        return $"aOnPath: {ReceivesExpr(a)}, bOnPath: {ReceivesExpr(b)}, aIsGate: {Bool(Values[a].IsGate)}, bIsGate: {Bool(Values[b].IsGate)}, cpForced: {Bool(product.CpForced)}";
    }

    private static string Bool(bool value) => value ? "true" : "false";
}
