using System;
using System.Collections.Generic;
using LrpGen;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>One decoder family: its config.json model_type and GGUF architecture, how its config is read, which
/// annotated module it builds, and how checkpoint names map to that module's parameters. The registrations are in
/// <see cref="DecoderFamilies"/>.</summary>
/// <param name="ModelType">config.json's model_type ("mistral").</param>
/// <param name="GgufArchitecture">general.architecture of the GGUF files llama.cpp's converter writes for the family
/// ("llama" for Mistral and Mixtral too: the converter stores them as LLaMA).</param>
/// <param name="ReadConfig">Reads and checks config.json.</param>
/// <param name="Build">The family's annotated module on a device (null: the default), with its entry points.</param>
/// <param name="Names">Parameter names to checkpoint tensors.</param>
/// <param name="PositionsKey">The config key that bounds a prompt's length.</param>
public sealed record DecoderFamily(
    string ModelType,
    string GgufArchitecture,
    Func<ConfigReader, DecoderConfig> ReadConfig,
    Func<DecoderConfig, Device?, DecoderModule> Build,
    CheckpointNames Names,
    string PositionsKey = "max_position_embeddings");

/// <summary>A built decoder module and how to run it from embeddings and the constant inputs of
/// <see cref="DecoderInputs"/>: the generated relevance pass, the plain forward (autograd records it), and each layer's
/// attention probabilities (null where the family does not expose them).</summary>
public sealed partial record DecoderModule(
    nn.Module Module,
    Embedding Embeddings,
    Func<Tensor, DecoderInputs, LrpOptions, LrpPass> Forward,
    Func<Tensor, DecoderInputs, Tensor> Plain,
    Func<Tensor, DecoderInputs, IReadOnlyList<Tensor>>? Attention,
    bool Rotary = true)
{
    /// <summary>LlamaForCausalLM, for the LLaMA-layout families.</summary>
    public static DecoderModule Llama(DecoderConfig config, Device? device)
    {
        var m = new LlamaForCausalLM(config, device);
        return new DecoderModule(m, m.embed_tokens,
            (e, i, o) => m.LrpForward(e, i.LayerCos!, i.LayerSin!, i.LayerMasks, i.Rows, o),
            (e, i) => m.forward(e, i.LayerCos!, i.LayerSin!, i.LayerMasks, i.Rows),
            (e, i) => LayerAttention(e, i, LayersOf(m.layers, l => (l.forward, l.input_layernorm, l.self_attn))));
    }

    /// <summary>GemmaForCausalLM, for Gemma 2 and Gemma 3. The attention probabilities are those of the layer's
    /// input; the embeddings are scaled first, as the module does.</summary>
    public static DecoderModule Gemma(DecoderConfig config, Device? device)
    {
        var m = new GemmaForCausalLM(config, device);
        double scale = Math.Sqrt(config.HiddenSize);
        return new DecoderModule(m, m.embed_tokens,
            (e, i, o) => m.LrpForward(e, i.LayerCos!, i.LayerSin!, i.LayerMasks, i.Rows, o),
            (e, i) => m.forward(e, i.LayerCos!, i.LayerSin!, i.LayerMasks, i.Rows),
            (e, i) =>
            {
                using var scaled = e * torch.tensor(scale, e.dtype, e.device);
                return LayerAttention(scaled, i, LayersOf(m.layers, l => (l.forward, l.input_layernorm, l.self_attn)));
            });
    }

    private delegate Tensor LayerForward(Tensor h, Tensor cos, Tensor sin, Tensor mask);

    private static IEnumerable<(LayerForward Layer, RmsNorm Norm, DecoderAttention Attention)> LayersOf<TLayer>(
        IEnumerable<TLayer> layers, Func<TLayer, (LayerForward, RmsNorm, DecoderAttention)> parts)
    {
        foreach (var layer in layers) yield return parts(layer);
    }

    /// <summary>Runs the layers plainly and collects each layer's attention probabilities (of its normalised input).</summary>
    private static IReadOnlyList<Tensor> LayerAttention(Tensor embeds, DecoderInputs inputs,
        IEnumerable<(LayerForward Layer, RmsNorm Norm, DecoderAttention Attention)> layers)
    {
        using var scope = torch.NewDisposeScope();
        var result = new List<Tensor>();
        var h = embeds;
        foreach (var (layer, norm, attention) in layers)
        {
            result.Add(attention.AttentionProbabilities(norm.forward(h), inputs.LayerCos!, inputs.LayerSin!, inputs.LayerMasks));
            h = layer(h, inputs.LayerCos!, inputs.LayerSin!, inputs.LayerMasks);
        }
        foreach (var probs in result) probs.MoveToOuterDisposeScope();
        return result;
    }
}
