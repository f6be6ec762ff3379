using System;
using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>The run-time state a generated pass threads through its modules: the chosen method, the path of the
/// module being run, and the latent points the caller asked about. Not thread-safe by itself: it holds one
/// backward's seeds and latents, and <see cref="LrpPass"/> runs its backwards one at a time.</summary>
public sealed class LrpContext
{
    private readonly Stack<string> _prefix = new();
    private readonly string[] _latentPatterns;
    private readonly IReadOnlyDictionary<string, Func<Tensor, Tensor>> _interventions;
    private readonly IReadOnlyDictionary<Type, double> _gammaOverrides;
    private readonly KeyValuePair<string, LrpRule>[] _ruleOverrides;
    private readonly Stack<RuleScope> _scopes = new();
    private readonly Dictionary<string, RuleScope> _scopeOfPath = new(StringComparer.Ordinal);
    private readonly HashSet<string> _overridesMatched = new(StringComparer.Ordinal);
    private readonly HashSet<string> _interventionsApplied = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, Tensor>? _seeds;
    private readonly HashSet<string> _seedsApplied = new(StringComparer.Ordinal);
    private Dictionary<string, Tensor>? _latents;

    public LrpContext(LrpOptions? options)
    {
        options ??= new LrpOptions();
        Method = options.Method;
        _latentPatterns = options.Latents.ToArray();
        _interventions = options.Interventions;
        _gammaOverrides = options.GammaOverrides;
        _ruleOverrides = (options.RuleOverrides ?? throw new ArgumentException("LrpOptions.RuleOverrides must not be null.", nameof(options))).ToArray();
        foreach (var o in _ruleOverrides)
            if (o.Value is null) throw new ArgumentException($"The rule override '{o.Key}' has no rule (null).", nameof(options));
        Checkpointing = options.Checkpointing;
        MaxSeedsPerBackward = options.MaxSeedsPerBackward;
        SeedMemoryBudget = options.SeedMemoryBudget;
        AttentionBlockBytes = options.AttentionBlockBytes;
        foreach (var gamma in _gammaOverrides.Values)
            if (!(gamma >= 0)) throw new ArgumentException($"gamma must be >= 0, got {gamma}.", nameof(options));
    }

    /// <summary>The gamma of a layer compiled with [GammaRule(compiled)]: the override for its module type, if any.</summary>
    public double Gamma(object module, double compiled) =>
        _gammaOverrides.TryGetValue(module.GetType(), out var gamma) ? gamma : compiled;

    public LrpMethod Method { get; }

    /// <summary>True when LRP rules apply here (AttnLRP or CP-LRP, and no <see cref="LrpRule.Gradient"/> override
    /// on the module being run or one around it); false for the plain gradient.</summary>
    public bool RulesActive => Method != LrpMethod.Gradient && !Current.Gradient;

    /// <summary>True when gates and attention weights are constants here: an <see cref="LrpRule.CpLrp"/> override
    /// (<see cref="LrpRule.AttnLrp"/> says no) on the module being run or one around it; else CP-LRP chosen as the
    /// method, or forced by <see cref="CpLrpAttribute"/> (<paramref name="cpForced"/>, compiled) under AttnLRP.</summary>
    public bool GatesAreConstant(bool cpForced)
    {
        if (Method == LrpMethod.Gradient) return false;
        if (Current.GatesConstant is bool overridden) return overridden;
        return Method == LrpMethod.CpLrp || cpForced;
    }

    /// <summary>Forward, at a Linear / Conv2d layer (at its point; null for a functional linear, which follows the
    /// module being run): the rule it applies in this pass. The compiled rule (<paramref name="epsilon"/>, or
    /// <paramref name="gamma"/> when the gamma rule was compiled, replaced by <see cref="LrpOptions.GammaOverrides"/>
    /// for the module's type) unless an <see cref="LrpRule.Epsilon"/> / <see cref="LrpRule.Gamma"/> override or the
    /// gradient applies.</summary>
    public LrpLayerRule LayerRule(LrpPoint? point, double epsilon, double? gamma, object? module)
    {
        var scope = point is null ? Current : ScopeOf(point.Path, Current);
        if (Method == LrpMethod.Gradient || scope.Gradient) return new LrpLayerRule(0, null);
        if (scope.Layer is { } layer)
            return layer.Kind == LrpRuleKind.Gamma ? new LrpLayerRule(0, layer.Value) : new LrpLayerRule(layer.Value, null);
        if (gamma is double compiled) return new LrpLayerRule(0, module is null ? compiled : Gamma(module, compiled));
        return new LrpLayerRule(epsilon, null);
    }

    /// <summary>The overrides in force inside a module or at a layer.</summary>
    private sealed record RuleScope(bool? GatesConstant, LrpRule? Layer, bool Gradient)
    {
        public static readonly RuleScope None = new(null, null, false);
    }

    private RuleScope Current => _scopes.Count == 0 ? RuleScope.None : _scopes.Peek();

    /// <summary>The scope at a path: the enclosing one with the overrides whose pattern matches the path on top
    /// (one per kind: gates, layer rule, gradient).</summary>
    private RuleScope ScopeOf(string path, RuleScope outer)
    {
        if (_ruleOverrides.Length == 0) return outer;
        if (_scopeOfPath.TryGetValue(path, out var known)) return known;
        var scope = outer;
        KeyValuePair<string, LrpRule>? gates = null, layer = null;
        foreach (var o in _ruleOverrides)
        {
            if (!Matches(o.Key, path)) continue;
            _overridesMatched.Add(o.Key);
            switch (o.Value.Kind)
            {
                case LrpRuleKind.AttnLrp or LrpRuleKind.CpLrp:
                    Unique(ref gates, o, path);
                    scope = scope with { GatesConstant = o.Value.Kind == LrpRuleKind.CpLrp };
                    break;
                case LrpRuleKind.Epsilon or LrpRuleKind.Gamma:
                    Unique(ref layer, o, path);
                    scope = scope with { Layer = o.Value };
                    break;
                default:
                    scope = scope with { Gradient = true };
                    break;
            }
        }
        _scopeOfPath[path] = scope;
        return scope;
    }

    private static void Unique(ref KeyValuePair<string, LrpRule>? chosen, KeyValuePair<string, LrpRule> next, string path)
    {
        if (chosen is { } first && first.Value != next.Value)
            throw new ArgumentException($"The rule overrides '{first.Key}' ({first.Value}) and '{next.Key}' ({next.Value}) both match the point '{path}': make one pattern more specific.");
        chosen = next;
    }

    /// <summary><see cref="LrpOptions.MaxSeedsPerBackward"/>.</summary>
    public int? MaxSeedsPerBackward { get; }

    /// <summary><see cref="LrpOptions.SeedMemoryBudget"/>.</summary>
    public long? SeedMemoryBudget { get; }
    /// <summary>The memory budget of one block of fused attention rows (<see cref="LrpOptions.AttentionBlockBytes"/>).</summary>
    public long AttentionBlockBytes { get; }

    /// <summary>Memory-saving mode (<see cref="LrpOptions.Checkpointing"/>).</summary>
    public bool Checkpointing { get; }

    /// <summary>True where a submodule call is checkpointed: in memory-saving mode, for the calls the top-level
    /// module makes (its blocks); inside a block everything is recomputed anyway.</summary>
    public bool CheckpointsHere => Checkpointing && _prefix.Count == 0;

    // ------------------------------------------------------------ points (called by generated code)

    /// <summary>The point for a member of the module being run (index &gt;= 0 for module-list elements).</summary>
    public LrpPoint Point(string member, long index)
    {
        string name = index >= 0 ? member + "." + index.ToString(System.Globalization.CultureInfo.InvariantCulture) : member;
        return new LrpPoint(_prefix.Count == 0 ? name : _prefix.Peek() + "." + name);
    }

    /// <summary>Runs a child module under this point's path (and the rule overrides matching it).</summary>
    public void Enter(LrpPoint point)
    {
        _scopes.Push(ScopeOf(point.Path, Current));
        _prefix.Push(point.Path);
    }

    public void Exit()
    {
        _prefix.Pop();
        _scopes.Pop();
    }

    /// <summary>Forward, at a submodule's output (owned by the caller): applies a requested intervention, disposing
    /// the original, and keeps the value if its latent relevance was asked for.</summary>
    public Tensor AtOutput(LrpPoint point, Tensor value)
    {
        var changed = Intervene(point, value);
        if (changed is not null)
        {
            value.Dispose();
            value = changed;
        }
        Keep(point, value);
        return value;
    }

    /// <summary>Forward, at a Linear's input (borrowed): returns the changed input when an intervention applies
    /// (the caller disposes it), else null; keeps the value used if its latent relevance was asked for.</summary>
    public Tensor? AtInput(LrpPoint point, Tensor value)
    {
        var changed = Intervene(point, value);
        Keep(point, changed ?? value);
        return changed;
    }

    private Tensor? Intervene(LrpPoint point, Tensor value)
    {
        if (!_interventions.TryGetValue(point.Path, out var change)) return null;
        _interventionsApplied.Add(point.Path);
        var changed = change(value);
        if (ReferenceEquals(changed, value)) return value.alias();
        if (!Rules.Grad.ShapesEqual(changed.shape, value.shape))
            throw new InvalidOperationException($"The intervention at '{point.Path}' changed the shape [{string.Join(", ", value.shape)}] to [{string.Join(", ", changed.shape)}].");
        return changed;
    }

    /// <summary>Forward: keeps the value when latent relevance was asked for here.</summary>
    private void Keep(LrpPoint point, Tensor value)
    {
        if (_latentPatterns.Any(p => Matches(p, point.Path))) point.Value = value.alias();
    }

    /// <summary>Backward: adds a requested seed to the gradient here and records the latent relevance.</summary>
    public void AtGradient(LrpPoint point, ref Tensor? g)
    {
        if (_seeds is not null && _seeds.TryGetValue(point.Path, out var seed))
        {
            _seedsApplied.Add(point.Path);
            // A seed is a weight tensor shaped like the gradient here ([S, ...value shape]), in the model's dtype and device.
            Rules.Grad.Add(ref g, g is null ? seed.alias() : seed.to(g.dtype, g.device));
        }
        if (point.Value is null || g is null || _latents is null) return;
        var dtype = LrpPass.RelevanceType(point.Value.dtype);
        using var v = point.Value.to(dtype);
        using var gr = g.to(dtype);
        var relevance = v.mul(gr);
        if (_latents.TryGetValue(point.Path, out var previous))
        {
            // The same point reached twice (a module called twice): relevance adds up.
            _latents[point.Path] = previous.add(relevance);
            previous.Dispose();
            relevance.Dispose();
        }
        else _latents[point.Path] = relevance;
    }

    // ------------------------------------------------------------ per backward

    internal void BeginBackward(IReadOnlyDictionary<string, Tensor>? seeds)
    {
        _seeds = seeds;
        _seedsApplied.Clear();
        _latents = new Dictionary<string, Tensor>(StringComparer.Ordinal);
    }

    internal Dictionary<string, Tensor> EndBackward()
    {
        if (_seeds is not null)
            foreach (var path in _seeds.Keys)
                if (!_seedsApplied.Contains(path))
                    throw new ArgumentException($"No point '{path}' was reached by the backward, so its seed was not used. Points are paths of submodule outputs and Linear inputs, e.g. 'layers.0.mlp.down_proj'.");
        var latents = _latents ?? new Dictionary<string, Tensor>();
        _latents = null;
        _seeds = null;
        return latents;
    }

    /// <summary>After the forward: every requested intervention and rule override must have found its point.</summary>
    public void CheckOptionsApplied()
    {
        foreach (var path in _interventions.Keys)
            if (!_interventionsApplied.Contains(path))
                throw new ArgumentException($"No point '{path}' was reached by the forward, so its intervention was not applied.");
        foreach (var o in _ruleOverrides)
            if (!_overridesMatched.Contains(o.Key))
                throw new ArgumentException($"The rule override '{o.Key}' matched no point of the forward (points are submodule and layer paths, e.g. 'layers.0.attn' or 'layers.*.mlp.down_proj').");
    }

    /// <summary>Glob match: '*' is one path segment ("layers.*" = every block output), '**' any run of
    /// segments ("**.down_proj" = every down_proj input).</summary>
    internal static bool Matches(string pattern, string path)
    {
        if (!pattern.Contains('*')) return string.Equals(pattern, path, StringComparison.Ordinal);
        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*\\*", ".*").Replace("\\*", "[^.]*") + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(path, regex);
    }
}
