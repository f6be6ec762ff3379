using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Bert;

/// <summary>A BertForSequenceClassification loaded from a Hugging Face folder, ready to explain class logits.
/// Relevance is reported at the word embeddings (before positions and token types are added).</summary>
public sealed class BertClassifier : IDisposable
{
    private BertClassifier(BertConfig config, BertForSequenceClassification model, ScalarType dtype, Device device)
    {
        Config = config;
        Model = model;
        DType = dtype;
        Device = device;
    }

    public BertConfig Config { get; }
    public BertForSequenceClassification Model { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    public static BertClassifier Load(string folder, ScalarType dtype = ScalarType.Float32, Device? device = null, IProgress<string>? progress = null)
    {
        device ??= torch.CPU;
        var checkpoint = CheckpointFolder.Open(folder);
        var config = BertConfig.From(checkpoint);
        ShapeCheck.BeforeAllocating(checkpoint, dtype, meta => new BertForSequenceClassification(config, meta),
            (shapes, assigner) => BertLoading.Load(shapes, assigner, classifier: true));
        var model = new BertForSequenceClassification(config);
        model.to(dtype);
        BertLoading.Load(model, new WeightAssigner(checkpoint, dtype), classifier: true);
        progress?.Report($"bert: {config.Layers} layers, hidden {config.HiddenSize}, {config.Labels} labels");
        model.to(device);
        model.eval();
        return new BertClassifier(config, model, dtype, device);
    }

    /// <summary>Explains class logits for token ids [B, T] (right-padded; mask 1 = token, 0 = padding).</summary>
    public CausalLmExplanation Explain(Tensor ids, Tensor? attentionMask, ExplainRequest request)
    {
        long batch = ids.shape[0], length = ids.shape[1];
        if (ids.dim() != 2) throw new ArgumentException($"ids must be [batch, tokens], got [{string.Join(", ", ids.shape)}].", nameof(ids));
        if (length > Config.MaxPositions) throw new ArgumentException($"{length} tokens exceed BERT's {Config.MaxPositions} positions.", nameof(ids));
        long min = ids.min().item<long>(), max = ids.max().item<long>();
        if (min < 0 || max >= Config.VocabSize) throw new ArgumentException($"token ids must be in [0, {Config.VocabSize}); got {min}..{max}.", nameof(ids));
        var options = new LrpOptions
        {
            Method = request.Method,
            Latents = request.Latents.Select(p => "bert." + p).ToArray(),
            Interventions = (request.Interventions ?? new Dictionary<string, Func<Tensor, Tensor>>()).ToDictionary(kv => "bert." + kv.Key, kv => kv.Value),
        };
        using var onDevice = ids.to(Device);
        using var mask = attentionMask?.to(ScalarType.Int64, Device) ?? torch.ones_like(onDevice, ScalarType.Int64);
        using var inputs = BertInputs.Prepare(mask, DType, Device);
        LrpPass pass;
        using (torch.no_grad())
        using (var words = Model.bert.word_embeddings.forward(onDevice))
            pass = Model.LrpForward(words, inputs.PositionIds, inputs.TokenTypeIds, inputs.Mask, options);
        using (pass)
        {
            var logits = pass.Output;
            long labels = logits.shape[1];
            if (request.Targets is { } t && t.Count != batch)
                throw new ArgumentException($"{t.Count} targets for a batch of {batch} inputs: give one per input.", nameof(request));
            var targets = request.Targets?.ToArray() ?? logits.argmax(1).data<long>().ToArray();
            foreach (var target in targets)
                if (target < 0 || target >= labels) throw new ArgumentException($"target {target} is not a class in [0, {labels}).", nameof(request));
            using var weights = torch.zeros(logits.shape, logits.dtype, logits.device);
            for (int b = 0; b < batch; b++) weights[b, targets[b]] = torch.tensor(1.0, logits.dtype);
            using var picked = logits.mul(weights).sum(1).to(ScalarType.Float32);
            var scores = picked.data<float>().ToArray();
            var seeds = request.Seeds?.ToDictionary(kv => "bert." + kv.Key, kv => kv.Value);
            var explanation = pass.Explain(weights, seeds);
            var tokens = explanation.Inputs[0].sum(new long[] { -1 });
            var latents = explanation.Latents.ToDictionary(kv => kv.Key.Substring("bert.".Length), kv => kv.Value);
            return new CausalLmExplanation(targets, scores, logits.detach().clone(), tokens, explanation.Inputs[0], latents, new long[batch]);
        }
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>BERT's constant inputs: positions 0..T-1, token type 0, and the additive padding mask [B, 1, 1, T].</summary>
internal sealed record BertInputs(Tensor PositionIds, Tensor TokenTypeIds, Tensor Mask) : IDisposable
{
    public static BertInputs Prepare(Tensor mask, ScalarType dtype, Device device)
    {
        long batch = mask.shape[0], length = mask.shape[1];
        using var scope = torch.NewDisposeScope();
        var positions = torch.arange(length, device: device).unsqueeze(0).expand(batch, length).contiguous();
        var types = torch.zeros(batch, length, ScalarType.Int64, device);
        double min = MaskValues.Min(dtype);
        var additive = torch.zeros(batch, 1, 1, length, dtype, device).masked_fill(mask.eq(0).view(batch, 1, 1, length), min);
        return new BertInputs(positions.MoveToOuterDisposeScope(), types.MoveToOuterDisposeScope(), additive.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        PositionIds.Dispose();
        TokenTypeIds.Dispose();
        Mask.Dispose();
    }
}
