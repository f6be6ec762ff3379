using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>Run-time options of one relevance pass.</summary>
public sealed class LrpOptions
{
    private LrpMethod _method = LrpMethod.AttnLrp;

    /// <summary>The propagation method; <see cref="LrpMethod.AttnLrp"/> by default.</summary>
    public LrpMethod Method
    {
        get => _method;
        set
        {
            if (!Enum.IsDefined(typeof(LrpMethod), value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "LrpOptions.Method must be AttnLrp, CpLrp or Gradient.");
            _method = value;
        }
    }

    /// <summary>Points whose latent relevance <see cref="LrpPass.Explain"/> returns: paths of submodule outputs
    /// ("layers.0") and Linear inputs ("layers.0.mlp.down_proj"); '*' matches one path segment ("layers.*"),
    /// '**' any run of segments ("**.down_proj").</summary>
    public IReadOnlyList<string> Latents { get; set; } = Array.Empty<string>();

    /// <summary>Memory-saving mode for long inputs: the top-level module keeps only the inputs of the submodules
    /// it calls (its blocks) and recomputes each block's forward during the backward, one block at a time.</summary>
    public bool Checkpointing { get; set; }

    /// <summary>The most seeds one backward runs at once when <see cref="LrpPass.Explain"/> gets weights with a leading
    /// seed dimension S: larger S is split into chunks of at most this many seeds (the rows are the same). Null (the
    /// default): no cap. Must be at least 1.</summary>
    public int? MaxSeedsPerBackward
    {
        get => _maxSeedsPerBackward;
        set
        {
            if (value is < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "LrpOptions.MaxSeedsPerBackward must be at least 1 (or null for no cap).");
            _maxSeedsPerBackward = value;
        }
    }

    private int? _maxSeedsPerBackward;

    /// <summary>A memory budget, in bytes, for the seed-dependent tensors of one batched backward: the pass runs the
    /// first seed alone, estimates the memory one seed takes from the largest gradient that backward held
    /// (<see cref="Rules.Grad.SeedCostFactor"/> times its size), and runs the other seeds in chunks that fit the budget
    /// (at least one seed each; <see cref="MaxSeedsPerBackward"/> caps them too). The forward's tape is not counted:
    /// it is shared by every seed. Null (the default): no budget. Must be positive.</summary>
    public long? SeedMemoryBudget
    {
        get => _seedMemoryBudget;
        set
        {
            if (value is <= 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, "LrpOptions.SeedMemoryBudget must be a positive number of bytes (or null for no budget).");
            _seedMemoryBudget = value;
        }
    }

    private long? _seedMemoryBudget;

    private long _attentionBlockBytes = DefaultAttentionBlockBytes;

    /// <summary>The default <see cref="AttentionBlockBytes"/>: 16 MiB.</summary>
    public const long DefaultAttentionBlockBytes = 16L << 20;

    /// <summary>Memory budget, in bytes, of one block of attention rows: attention that the generator fuses
    /// (softmax(q k^T * scale + mask) v, scaled_dot_product_attention) computes its probabilities a block of query
    /// rows at a time, never for all rows at once, with as many rows per block as this budget allows (at least one).</summary>
    public long AttentionBlockBytes
    {
        get => _attentionBlockBytes;
        set
        {
            if (value <= 0)
                throw new ArgumentOutOfRangeException(nameof(value), value, "LrpOptions.AttentionBlockBytes must be a positive number of bytes (the default is 16 MiB).");
            _attentionBlockBytes = value;
        }
    }

    /// <summary>Gamma values that replace the compiled [GammaRule] values of layers of a module type, e.g.
    /// <c>{ [typeof(Conv2d)] = 0.25, [typeof(Linear)] = 0.05 }</c>: tune gamma without recompiling. Layers without
    /// a [GammaRule] keep their rule.</summary>
    public IReadOnlyDictionary<Type, double> GammaOverrides { get; set; } = new Dictionary<Type, double>();

    /// <summary>Rules chosen at run time, keyed by point globs (the syntax of <see cref="Latents"/>): each switches
    /// the sites under the matching points between the rules their ops allow (docs/rules.md), e.g.
    /// <c>{ ["layers.*.attn"] = LrpRule.CpLrp, ["**.down_proj"] = LrpRule.Epsilon(0.1), ["layers.0"] = LrpRule.Gradient }</c>.
    /// A pattern applies to the point it matches and everything inside it; the nearest matching point wins, and two
    /// patterns that match the same point with different rules of one kind are an error. Ignored by
    /// <see cref="LrpMethod.Gradient"/>, which is the gradient everywhere.</summary>
    public IReadOnlyDictionary<string, LrpRule> RuleOverrides { get; set; } = new Dictionary<string, LrpRule>();

    /// <summary>Changes to forward values at points (neuron manipulation): the function gets the value there and
    /// returns the value to use instead, of the same shape.</summary>
    public IReadOnlyDictionary<string, Func<Tensor, Tensor>> Interventions { get; set; } = new Dictionary<string, Func<Tensor, Tensor>>();
}
