using System;
using System.Collections.Generic;
using System.IO;
using LrpGen;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Vit;

/// <summary>A torchvision ViT loaded from a folder (config.json + model.safetensors with torchvision's names),
/// explaining class logits at the pixels.</summary>
public sealed class VitClassifier : IDisposable
{
    private VitClassifier(VitConfig config, VisionTransformer model)
    {
        Config = config;
        Model = model;
    }

    public VitConfig Config { get; }
    public VisionTransformer Model { get; }

    public static VitClassifier Load(string folder, Device? device = null)
    {
        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new CheckpointException($"{configPath} is missing.", configPath);
        var config = VitConfig.From(JsonFile.ReadObject(configPath), configPath);
        string weights = Path.Combine(folder, "model.safetensors");
        if (!File.Exists(weights)) throw new CheckpointException($"{weights} is missing.", weights);
        var file = SafetensorsFile.Open(weights);
        ShapeCheck.BeforeAllocating(meta => new VisionTransformer(config, meta), shapes => LoadWeights(shapes, file, shapesOnly: true));
        var model = new VisionTransformer(config);
        LoadWeights(model, file, shapesOnly: false);
        if (device is not null) model.to(device);
        model.eval();
        return new VitClassifier(config, model);
    }

    /// <summary>Copies torchvision's tensors into the model's parameters, each shape checked from the header before
    /// its data is read; every tensor of the file must be used. With <paramref name="shapesOnly"/> nothing is read.</summary>
    private static void LoadWeights(VisionTransformer model, SafetensorsFile file, bool shapesOnly)
    {
        string weights = file.FilePath;
        var used = new HashSet<string>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            string source = TorchvisionName(name);
            if (!file.Contains(source)) throw new CheckpointException($"{weights} has no tensor '{source}'; the model expects one of shape {SafetensorsEntry.FormatShape(parameter.shape)}.", weights);
            var stored = file.Shape(source);
            if (!stored.AsSpan().SequenceEqual(parameter.shape))
                throw new CheckpointException($"Tensor '{source}' in {weights} has shape {SafetensorsEntry.FormatShape(stored)}; the model expects {SafetensorsEntry.FormatShape(parameter.shape)}.", weights);
            used.Add(source);
            if (shapesOnly) continue;
            using var loaded = file.Load(source);
            using (torch.no_grad()) parameter.copy_(loaded);
        }
        foreach (var name in file.TensorNames)
            if (!used.Contains(name)) throw new CheckpointException($"{weights} has a tensor the model does not use: '{name}'.", weights);
    }

    /// <summary>torchvision's state-dict name of one of our parameters.</summary>
    internal static string TorchvisionName(string name)
    {
        if (name == "pos_embedding") return "encoder.pos_embedding";
        if (name.StartsWith("ln.", StringComparison.Ordinal)) return "encoder." + name;
        if (name.StartsWith("head.", StringComparison.Ordinal)) return "heads." + name;
        if (!name.StartsWith("layers.", StringComparison.Ordinal)) return name;
        var parts = name.Split('.');
        string rest = string.Join(".", parts, 2, parts.Length - 2).Replace("mlp_0.", "mlp.0.").Replace("mlp_3.", "mlp.3.");
        return $"encoder.layers.encoder_layer_{parts[1]}.{rest}";
    }

    /// <summary>Relevance of the pixels [B, 3, H, W] for the target class logits (null: each image's top class).</summary>
    public (long[] Targets, float[] Logits, Tensor PixelRelevance) Explain(Tensor pixels, LrpMethod method, long[]? targets = null,
        double? gammaConv = null, double? gammaLinear = null)
    {
        var overrides = new Dictionary<Type, double>
        {
            [typeof(Conv2d)] = gammaConv ?? Config.GammaConv,
            [typeof(Linear)] = gammaLinear ?? Config.GammaLinear,
        };
        using var pass = Model.LrpForward(pixels, new LrpOptions { Method = method, GammaOverrides = overrides });
        var logits = pass.Output;
        long batch = logits.shape[0], classes = logits.shape[1];
        if (targets is not null && targets.Length != batch) throw new ArgumentException($"{targets.Length} targets for {batch} images.", nameof(targets));
        targets ??= logits.argmax(1).data<long>().ToArray();
        foreach (var t in targets)
            if (t < 0 || t >= classes) throw new ArgumentException($"target {t} is not a class in [0, {classes}).", nameof(targets));
        using var weights = torch.zeros_like(logits);
        var scores = new float[batch];
        for (int b = 0; b < batch; b++)
        {
            weights[b, targets[b]] = torch.tensor(1f, logits.dtype);
            scores[b] = logits[b, targets[b]].item<float>();
        }
        return (targets, scores, pass.Backward(weights)[0]);
    }

    public void Dispose() => Model.Dispose();
}
