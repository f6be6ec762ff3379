using System;
using System.Linq;
using LrpGen;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.CausalLm;

/// <summary>A decoder LLM loaded from a Hugging Face folder (llama, qwen3_moe), ready to explain: it turns token ids
/// and an attention mask into the inputs of the generated relevance pass (embeddings, rotary tables, causal and
/// padding mask, the position explained in each row).</summary>
public sealed class CausalLm : IDisposable
{
    private readonly Func<Tensor, Tensor, Tensor, Tensor, Tensor, LrpOptions, LrpPass> _forward;

    private CausalLm(DecoderConfig config, nn.Module module, Embedding embeddings, ScalarType dtype, Device device,
        Func<Tensor, Tensor, Tensor, Tensor, Tensor, LrpOptions, LrpPass> forward)
    {
        Config = config;
        Module = module;
        Embeddings = embeddings;
        DType = dtype;
        Device = device;
        _forward = forward;
    }

    public DecoderConfig Config { get; }
    public nn.Module Module { get; }
    public Embedding Embeddings { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    /// <summary>Loads config.json and the weights (model.safetensors or a sharded index) of a Hugging Face folder.</summary>
    public static CausalLm Load(string folder, ScalarType dtype = ScalarType.Float32, Device? device = null, IProgress<string>? progress = null)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float64))
            throw new ArgumentException($"dtype {dtype} is not a floating-point model type (float32, bfloat16, float16, float64).", nameof(dtype));
        device ??= torch.CPU;
        var checkpoint = CheckpointFolder.Open(folder);
        var config = DecoderConfig.From(checkpoint);
        progress?.Report($"{config.ModelType}: {config.Layers} layers, hidden {config.HiddenSize}, {config.Heads} heads / {config.KvHeads} kv heads");
        nn.Module module;
        Embedding embeddings;
        Func<Tensor, Tensor, Tensor, Tensor, Tensor, LrpOptions, LrpPass> forward;
        if (config.ModelType == "llama")
        {
            var m = new LlamaForCausalLM(config);
            module = m;
            embeddings = m.embed_tokens;
            forward = m.LrpForward;
        }
        else
        {
            var m = new Qwen3MoeForCausalLM(config);
            module = m;
            embeddings = m.embed_tokens;
            forward = m.LrpForward;
        }
        module.to(dtype);
        CheckpointLoading.LoadWeights(module, checkpoint, config, dtype, progress);
        module.to(device);
        module.eval();
        return new CausalLm(config, module, embeddings, dtype, device, forward);
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
        using var inputs = DecoderInputs.Prepare(Config, onDevice, mask, DType, Device);
        using var noGrad = torch.no_grad();
        using var embeds = Embeddings.forward(onDevice);
        return _forward(embeds, inputs.Cos, inputs.Sin, inputs.Mask, inputs.Rows, options);
    }

    public void Dispose() => Module.Dispose();
}
