using System;
using System.Collections.Generic;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>What is measured: the four methods and the generated memory-saving mode.</summary>
public enum Method
{
    /// <summary>(1) forward only, under no_grad (eager, every intermediate freed after its last use).</summary>
    Forward,

    /// <summary>(2) the generated AttnLRP pass: LrpForward + Backward, relevance at the embeddings.</summary>
    AttnLrp,

    /// <summary>--seeds: the generated AttnLRP pass explaining 16 logits in one batched backward (<see cref="SeedsBenchmark"/>).</summary>
    AttnLrpSeeds,

    /// <summary>(3) TorchSharp autograd, plain input x gradient, parameters frozen.</summary>
    AutogradGradX,

    /// <summary>(4) TorchSharp autograd with the AttnLRP rules injected as LXT does (detach tricks).</summary>
    AutogradRules,

    /// <summary>The generated AttnLRP pass in its memory-saving mode (<see cref="LrpOptions.Checkpointing"/>: keeps
    /// each layer's input, recomputes one layer's tape at a time during the backward).</summary>
    AttnLrpCheckpointed,
}

/// <summary>A LLaMA-shaped decoder with random weights. Defaults: the CPU shape.</summary>
public sealed record ModelShape
{
    public int Hidden { get; init; } = 512;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 8;
    public int KvHeads { get; init; } = 2;
    public int Intermediate { get; init; } = 1376;
    public int Vocab { get; init; } = 8000;
    public int Tokens { get; init; } = 512;
    public int Batch { get; init; } = 1;

    public DecoderConfig Config => new()
    {
        ModelType = "llama",
        VocabSize = Vocab,
        HiddenSize = Hidden,
        IntermediateSize = Intermediate,
        Layers = Layers,
        Heads = Heads,
        KvHeads = KvHeads,
        HeadDim = Hidden / Heads,
        RmsNormEps = 1e-6,
        RopeTheta = 10000,
        MaxPositions = Math.Max(4096, Tokens),
    };

    public override string ToString() =>
        $"hidden {Hidden}, {Layers} layers, {Heads} heads / {KvHeads} kv heads, intermediate {Intermediate}, vocab {Vocab}, {Batch} x {Tokens} tokens";
}

/// <summary>One model plus one prepared input, and the methods to run on it. Every run disposes all it creates.</summary>
public sealed class Workload : IDisposable
{
    private readonly DecoderInputs _inputs;
    private readonly LrpOptions _attnLrp = new() { Method = LrpMethod.AttnLrp };
    private readonly LrpOptions _checkpointed = new() { Method = LrpMethod.AttnLrp, Checkpointing = true };

    public Workload(ModelShape shape, long seed = 1234)
    {
        Shape = shape;
        Config = shape.Config;
        torch.manual_seed(seed);
        Model = new LlamaForCausalLM(Config);
        InitRandom(Model, seed);
        Model.eval();
        foreach (var p in Model.parameters()) p.requires_grad_(false);

        using var noGrad = torch.no_grad();
        using var gen = new Generator((ulong)seed + 1);
        using var ids = torch.randint(0, shape.Vocab, new long[] { shape.Batch, shape.Tokens }, generator: gen, dtype: ScalarType.Int64);
        using var mask = torch.ones(shape.Batch, shape.Tokens, ScalarType.Int64);
        _inputs = DecoderInputs.Prepare(Config, ids, mask, ScalarType.Float32, torch.CPU, rotary: true);
        Embeds = Model.embed_tokens.forward(ids);
        Reference = new ReferenceLlama(Model, Config);
        // The explained logit: the top next-token logit of each row (one-hot weights on [B, vocab]).
        using var logits = Forward();
        using var top = logits.argmax(1);
        Weights = torch.zeros(logits.shape, ScalarType.Float32);
        var targets = top.data<long>().ToArray();
        for (int b = 0; b < targets.Length; b++) Weights[b, targets[b]] = 1.0f;
    }

    public ModelShape Shape { get; }
    public DecoderConfig Config { get; }
    public LlamaForCausalLM Model { get; }
    public ReferenceLlama Reference { get; }
    public Tensor Embeds { get; }
    public Tensor Weights { get; }
    /// <summary>The module's stacked RoPE tables and masks (<see cref="DecoderInputs.LayerCos"/> etc.).</summary>
    public Tensor Cos => _inputs.LayerCos!;
    public Tensor Sin => _inputs.LayerSin!;
    public Tensor Mask => _inputs.LayerMasks;
    public Tensor Rows => _inputs.Rows;
    public DecoderInputs Inputs => _inputs;

    /// <summary>Small random values: N(0, 0.02) for linears and embeddings, 1 + N(0, 0.02) for norm scales.</summary>
    public static void InitRandom(nn.Module model, long seed)
    {
        using var noGrad = torch.no_grad();
        using var gen = new Generator((ulong)seed);
        foreach (var (name, p) in model.named_parameters())
        {
            using var noise = torch.randn(p.shape, generator: gen, dtype: p.dtype).mul_(0.02);
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) p.fill_(1.0).add_(noise);
            else p.copy_(noise);
        }
    }

    /// <summary>Runs one method once; returns the relevance at the embeddings (null for the forward), owned by the caller.</summary>
    public Tensor? Run(Method method) => method switch
    {
        Method.Forward => Forward(),
        Method.AttnLrp => GeneratedRelevance(),
        Method.AttnLrpSeeds => SeedsBenchmark.Batched(this),
        Method.AutogradGradX => Reference.Relevance(Embeds, _inputs, Weights, rules: false),
        Method.AutogradRules => Reference.Relevance(Embeds, _inputs, Weights, rules: true),
        Method.AttnLrpCheckpointed => GeneratedRelevance(_checkpointed),
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };

    /// <summary>Runs one method and frees its result.</summary>
    public void RunAndDrop(Method method)
    {
        using var result = Run(method);
    }

    /// <summary>(1) The forward alone: logits at the explained rows.</summary>
    public Tensor Forward()
    {
        using var noGrad = torch.no_grad();
        return Reference.Logits(Embeds, _inputs, rules: false);
    }

    /// <summary>The module's own forward (TorchSharp frees its temporaries only at the end of the scope): used to
    /// check that the eager reference forward computes the same logits.</summary>
    public Tensor ModuleForward()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return Model.forward(Embeds, Cos, Sin, Mask, Rows).MoveToOuterDisposeScope();
    }

    /// <summary>(2) The generated AttnLRP pass.</summary>
    public Tensor GeneratedRelevance(LrpOptions? options = null)
    {
        using var pass = Model.LrpForward(Embeds, Cos, Sin, Mask, Rows, options ?? _attnLrp);
        var relevance = pass.Backward(Weights);
        for (int i = 1; i < relevance.Count; i++) relevance[i].Dispose();
        return relevance[0];
    }

    /// <summary>The methods in the order the tables list them.</summary>
    public static IReadOnlyList<Method> AllMethods { get; } = new[]
    {
        Method.Forward, Method.AttnLrp, Method.AutogradGradX, Method.AutogradRules, Method.AttnLrpCheckpointed,
    };

    public void Dispose()
    {
        Weights.Dispose();
        Embeds.Dispose();
        _inputs.Dispose();
        Model.Dispose();
    }
}
