using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>A decoder LLM loaded from a Hugging Face folder (a family of <see cref="DecoderFamilies"/>), ready to explain: it turns token ids
/// and an attention mask into the inputs of the generated relevance pass (embeddings, rotary tables, causal and
/// padding mask, the position explained in each row).</summary>
public sealed partial class CausalLm : IDisposable
{
    /// <summary>The family's module and its entry points (generated pass, plain forward, attention probabilities).</summary>
    private readonly DecoderModule _module;

    private CausalLm(DecoderConfig config, DecoderModule module, ScalarType dtype, Device device, IReadOnlyList<long> eosTokenIds)
    {
        _module = module;
        EosTokenIds = eosTokenIds;
        Config = config;
        DType = dtype;
        Device = device;
    }

    public DecoderConfig Config { get; }
    public nn.Module Module => _module.Module;
    public Embedding Embeddings => _module.Embeddings;
    public ScalarType DType { get; }
    public Device Device { get; }

    /// <summary>The end-of-sequence tokens that stop <see cref="Generate(IReadOnlyList{long[]}, GenerationOptions)"/>
    /// by default (<see cref="EndOfSequence"/>; empty when the folder names none).</summary>
    public IReadOnlyList<long> EosTokenIds { get; }

    /// <summary>Loads config.json and the weights (model.safetensors or a sharded index) of a Hugging Face folder.</summary>
    public static CausalLm Load(string folder, ScalarType dtype = ScalarType.Float32, Device? device = null, IProgress<string>? progress = null)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
            throw new ArgumentException($"dtype {dtype} is not a floating-point model type (float32, bfloat16, float16, float64).", nameof(dtype));
        device ??= torch.CPU;
        var checkpoint = CheckpointFolder.Open(folder);
        var family = DecoderFamilies.Of(checkpoint);
        var config = family.ReadConfig(checkpoint.Values);
        var eos = EndOfSequence.Read(checkpoint, config.VocabSize);
        progress?.Report($"{config.ModelType}: {config.Layers} layers, hidden {config.HiddenSize}, {config.Heads} heads / {config.KvHeads} kv heads");
        ShapeCheck.BeforeAllocating(checkpoint, dtype, meta => family.Build(config, meta).Module,
            (shapes, assigner) => CheckpointLoading.LoadWeights(shapes, assigner, config, family.Names, null));
        var built = family.Build(config, null);
        built.Module.to(dtype);
        CheckpointLoading.LoadWeights(built.Module, new WeightAssigner(checkpoint, dtype), config, family.Names, progress);
        built.Module.to(device);
        built.Module.eval();
        return new CausalLm(config, built, dtype, device, eos);
    }

    /// <summary>The input embeddings of token ids [B, T]: [B, T, hidden] in the model's dtype, on its device, computed
    /// without autograd (a leaf the caller owns).</summary>
    public Tensor Embed(Tensor ids)
    {
        CheckIds(ids);
        using var noGrad = torch.no_grad();
        using var onDevice = ids.to(Device);
        return Embeddings.forward(onDevice);
    }

    /// <summary>The plain forward from input embeddings [B, T, hidden] (any values: perturbed, interpolated, noisy)
    /// with an optional attention mask [B, T]: the logits at each row's last real token, [B, vocab]. TorchSharp
    /// autograd records it (unless the caller runs it under no_grad), so gradients with respect to the embeddings
    /// come from <c>backward</c>.</summary>
    public Tensor Logits(Tensor inputEmbeds, Tensor? attentionMask = null)
    {
        using var inputs = PrepareFor(inputEmbeds, attentionMask);
        using var onDevice = inputEmbeds.to(DType, Device);
        return _module.Plain(onDevice, inputs);
    }

    /// <summary>Each decoder layer's attention probabilities [B, heads, T, T] (head-major, rows are queries), in layer
    /// order, for input embeddings [B, T, hidden] and an optional attention mask [B, T]; computed without autograd.
    /// Available for the rotary families (all but gpt2).</summary>
    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor inputEmbeds, Tensor? attentionMask = null)
    {
        if (_module.Attention is not { } attention) throw new NotSupportedException($"attention probabilities are not available for {Config.ModelType} models.");
        using var inputs = PrepareFor(inputEmbeds, attentionMask);
        using var noGrad = torch.no_grad();
        using var onDevice = inputEmbeds.to(DType, Device);
        return attention(onDevice, inputs);
    }

    /// <summary>The relevance forward from input embeddings [B, T, hidden] (e.g. perturbed ones) with an optional
    /// attention mask [B, T]; the output and relevance are those of <see cref="Forward"/>.</summary>
    public LrpPass ForwardEmbeddings(Tensor inputEmbeds, Tensor? attentionMask, LrpOptions options)
    {
        using var inputs = PrepareFor(inputEmbeds, attentionMask);
        using var noGrad = torch.no_grad();
        using var onDevice = inputEmbeds.to(DType, Device);
        return _module.Forward(onDevice, inputs, options);
    }

    private DecoderInputs PrepareFor(Tensor inputEmbeds, Tensor? attentionMask)
    {
        if (inputEmbeds.dim() != 3 || inputEmbeds.shape[2] != Config.HiddenSize)
            throw new ArgumentException($"input embeddings must be [batch, tokens, {Config.HiddenSize}], got [{string.Join(", ", inputEmbeds.shape)}].", nameof(inputEmbeds));
        long B = inputEmbeds.shape[0], T = inputEmbeds.shape[1];
        using var mask = attentionMask?.to(ScalarType.Int64, Device) ?? torch.ones(B, T, ScalarType.Int64, Device);
        if (mask.dim() != 2 || mask.shape[0] != B || mask.shape[1] != T)
            throw new ArgumentException($"attention mask [{string.Join(", ", mask.shape)}] does not match the embeddings' [batch, tokens] [{B}, {T}].", nameof(attentionMask));
        return DecoderInputs.Prepare(Config, mask, mask, DType, Device, rotary: _module.Rotary);
    }

    private void CheckIds(Tensor ids)
    {
        if (ids.dim() != 2) throw new ArgumentException($"ids must be [batch, tokens], got [{string.Join(", ", ids.shape)}].", nameof(ids));
        if (ids.dtype is not (ScalarType.Int64 or ScalarType.Int32)) throw new ArgumentException($"ids must be integers, got {ids.dtype}.", nameof(ids));
        long vocab = Config.VocabSize;
        long min = ids.min().item<long>(), max = ids.max().item<long>();
        if (min < 0 || max >= vocab) throw new ArgumentException($"token ids must be in [0, {vocab}); got {min}..{max}.", nameof(ids));
    }

    /// <summary>Runs the relevance forward on token ids [B, T] with an optional attention mask [B, T] (1 = token,
    /// 0 = padding, on either side). The output is the logits at each row's last real token: [B, vocab].</summary>
    public LrpPass Forward(Tensor ids, Tensor? attentionMask, LrpOptions options)
    {
        if (ids.dim() != 2) throw new ArgumentException($"ids must be [batch, tokens], got [{string.Join(", ", ids.shape)}].", nameof(ids));
        if (ids.dtype is not (ScalarType.Int64 or ScalarType.Int32)) throw new ArgumentException($"ids must be integers, got {ids.dtype}.", nameof(ids));
        long vocab = Config.VocabSize;
        long min = ids.min().item<long>(), max = ids.max().item<long>();
        if (min < 0 || max >= vocab) throw new ArgumentException($"token ids must be in [0, {vocab}); got {min}..{max}.", nameof(ids));
        // The pass keeps handles of its own to what it needs; these inputs are freed here.
        using var onDevice = ids.to(Device);
        using var mask = attentionMask?.to(ScalarType.Int64, Device) ?? torch.ones_like(onDevice, ScalarType.Int64);
        if (!mask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"attention mask [{string.Join(", ", mask.shape)}] does not match ids [{string.Join(", ", ids.shape)}].", nameof(attentionMask));
        using var inputs = DecoderInputs.Prepare(Config, onDevice, mask, DType, Device, rotary: _module.Rotary);
        using var noGrad = torch.no_grad();
        using var embeds = Embeddings.forward(onDevice);
        return _module.Forward(embeds, inputs, options);
    }

    /// <summary>Explains a batch: token ids [B, T] and an attention mask [B, T] (null: no padding).</summary>
    public CausalLmExplanation Explain(Tensor ids, Tensor? attentionMask, ExplainRequest request)
    {
        if (request is null) throw new ArgumentNullException(nameof(request));
        long batch = ids.shape[0];
        if (request.Targets is { } t && t.Count != batch)
            throw new ArgumentException($"{t.Count} targets for a batch of {batch} prompts: give one per prompt.", nameof(request));
        var options = new LrpOptions
        {
            Method = request.Method,
            Latents = request.Latents,
            Interventions = request.Interventions ?? new Dictionary<string, Func<Tensor, Tensor>>(),
        };
        using var pass = Forward(ids, attentionMask, options);
        var logits = pass.Output;
        long vocab = logits.shape[1];
        var targets = request.Targets?.ToArray() ?? logits.argmax(1).data<long>().ToArray();
        foreach (var target in targets)
            if (target < 0 || target >= vocab) throw new ArgumentException($"target {target} is not a token id in [0, {vocab}).", nameof(request));
        if (request.Rivals is { } r)
            foreach (var rival in r)
                if (rival < 0 || rival >= vocab) throw new ArgumentException($"rival {rival} is not a token id in [0, {vocab}).", nameof(request));

        using var weights = torch.zeros(logits.shape, logits.dtype, logits.device);
        bool explainLogit = request.Seeds is null || request.ExplainLogitWithSeeds;
        if (explainLogit)
            for (int b = 0; b < batch; b++)
            {
                weights[b, targets[b]] = torch.tensor(1.0, logits.dtype);
                if (request.Rivals is { Count: > 0 } rivals)
                    foreach (var rival in rivals)
                        weights[b, rival] = weights[b, rival] - 1.0 / rivals.Count;
            }
        var scores = logits.mul(weights).sum(1).to(ScalarType.Float32).data<float>().ToArray();
        if (!explainLogit) scores = logits.gather(1, torch.tensor(targets).unsqueeze(1).to(logits.device)).squeeze(1).to(ScalarType.Float32).data<float>().ToArray();

        var explanation = pass.Explain(weights, request.Seeds);
        var embeddingRelevance = explanation.Inputs[0];
        var tokens = embeddingRelevance.sum(new long[] { -1 });
        using var lastPositions = ids.shape[1] > 0 && attentionMask is not null
            ? LastRealPositions(attentionMask) : torch.full(batch, ids.shape[1] - 1, ScalarType.Int64);
        return new CausalLmExplanation(targets, scores, logits.detach().clone(), tokens, embeddingRelevance,
            explanation.Latents, lastPositions.data<long>().ToArray());
    }

    /// <summary>Explains several prompts in one batch, padded on the left or right (same numbers either way).</summary>
    public CausalLmExplanation Explain(IReadOnlyList<long[]> prompts, ExplainRequest request, bool padLeft = true)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompts to explain.", nameof(prompts));
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("an empty prompt cannot be explained.", nameof(prompts));
        var (idTensor, maskTensor) = Padded(prompts, padLeft);
        using (idTensor)
        using (maskTensor)
            return Explain(idTensor, maskTensor, request);
    }

    private static Tensor LastRealPositions(Tensor mask)
    {
        using var real = mask.ne(0);
        using var index = torch.arange(mask.shape[1]).unsqueeze(0).expand(mask.shape[0], mask.shape[1]);
        using var masked = index.masked_fill(real.logical_not(), -1);
        return masked.max(1).values;
    }

    public void Dispose() => Module.Dispose();
}
