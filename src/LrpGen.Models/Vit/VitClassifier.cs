using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
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
        using var pass = Forward(pixels, method, gammaConv, gammaLinear);
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

    /// <summary>The <paramref name="k"/> most probable classes of each image explained in one pass: one forward, then
    /// one backward whose seed k is the logit of each image's k-th most probable class (seed weights [K, B, classes]).
    /// Returns, per image b, its classes, logits and softmax probabilities in decreasing order ([b][k]), and the pixel
    /// relevance [K, B, 3, H, W], whose row k equals <see cref="Explain"/> of those classes.</summary>
    public (long[][] Classes, float[][] Logits, float[][] Probabilities, Tensor PixelRelevance) ExplainTopK(Tensor pixels, int k, LrpMethod method,
        double? gammaConv = null, double? gammaLinear = null)
    {
        if (k < 1 || k > Config.Classes)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"top-k {k}: explain between 1 and the model's {Config.Classes} classes.");
        using var pass = Forward(pixels, method, gammaConv, gammaLinear);
        var logits = pass.Output;
        long batch = logits.shape[0];
        using var scope = torch.NewDisposeScope();
        var top = logits.topk(k, dim: 1, largest: true, sorted: true);
        var probabilities = logits.to(ScalarType.Float64).softmax(1).gather(1, top.indexes);
        // Seed k of image b: one at (k, b, its k-th class).
        var weights = torch.zeros(new long[] { k, batch, logits.shape[1] }, logits.dtype, logits.device);
        weights.scatter_(2, top.indexes.transpose(0, 1).unsqueeze(2), torch.ones(new long[] { k, batch, 1 }, logits.dtype, logits.device));
        var relevance = pass.Backward(weights)[0].MoveToOuterDisposeScope();
        var classes = top.indexes.cpu().data<long>().ToArray();
        var values = top.values.to(ScalarType.Float32).cpu().data<float>().ToArray();
        var probs = probabilities.to(ScalarType.Float32).cpu().data<float>().ToArray();
        T[][] PerImage<T>(T[] flat) => Enumerable.Range(0, (int)batch).Select(b => flat.Skip(b * k).Take(k).ToArray()).ToArray();
        return (PerImage(classes), PerImage(values), PerImage(probs), relevance);
    }

    /// <summary>The relevance forward with LXT's ViT recipe: Gamma on the patch embedding and the linears.</summary>
    private LrpPass Forward(Tensor pixels, LrpMethod method, double? gammaConv, double? gammaLinear)
    {
        var overrides = new Dictionary<Type, double>
        {
            [typeof(Conv2d)] = gammaConv ?? Config.GammaConv,
            [typeof(Linear)] = gammaLinear ?? Config.GammaLinear,
        };
        return Model.LrpForward(pixels, new LrpOptions { Method = method, GammaOverrides = overrides });
    }

    public void Dispose() => Model.Dispose();
}
