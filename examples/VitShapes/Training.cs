using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Vit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VitShapes;

/// <summary>Trains our <see cref="VisionTransformer"/> on freshly drawn shape images with TorchSharp autograd on
/// the CPU, and saves it with torchvision's names (config.json + model.safetensors).</summary>
public static class Training
{
    public const int TrainSeed = 1, ValidationSeed = 2, TestSeed = 3;

    /// <summary>The model that the example trains: 32x32 images in 8x8 patches (4 x 4 tokens and the class token),
    /// 3 blocks of width 64, 4 heads; LXT's gamma values.</summary>
    public static VitConfig Config { get; } = new(ImageSize: ShapesData.Size, PatchSize: 8, Layers: 3, Heads: 4, HiddenDim: 64,
        MlpDim: 128, Classes: ShapesData.ClassNames.Length, GammaConv: 0.25, GammaLinear: 0.05);

    public sealed record Options(int Steps = 3000, int Batch = 128, double LearningRate = 2e-3, double WeightDecay = 0.05,
        int WarmupSteps = 150, int Validation = 1000, int ModelSeed = 0);

    public sealed record Result(TimeSpan Elapsed, int Steps, int Images, double ValidationAccuracy);

    public static Result Train(string modelDir, Options options, TextWriter log)
    {
        torch.manual_seed(options.ModelSeed);
        using var model = new VisionTransformer(Config);
        Initialise(model);
        model.train();
        var optimizer = torch.optim.AdamW(model.parameters(), lr: options.LearningRate, weight_decay: options.WeightDecay);

        var clock = Stopwatch.StartNew();
        double smoothed = double.NaN;
        for (int step = 0; step < options.Steps; step++)
        {
            double lr = LearningRate(step, options);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            using var scope = torch.NewDisposeScope();
            var batch = ShapesData.Generate(TrainSeed, step * options.Batch, options.Batch);
            var x = ShapesData.ToInput(batch);
            var y = ShapesData.ToLabels(batch);
            var loss = nn.functional.cross_entropy(model.call(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            double value = loss.item<float>();
            smoothed = double.IsNaN(smoothed) ? value : 0.98 * smoothed + 0.02 * value;
            if ((step + 1) % 200 == 0 || step + 1 == options.Steps)
                log.WriteLine($"step {step + 1,5}/{options.Steps}  loss {smoothed:F4}  lr {lr:E2}  {clock.Elapsed.TotalSeconds,6:F1} s");
        }
        clock.Stop();

        model.eval();
        double accuracy = Accuracy(model, ShapesData.Generate(ValidationSeed, 0, options.Validation));
        Save(model, Config, modelDir);
        return new Result(clock.Elapsed, options.Steps, options.Steps * options.Batch, accuracy);
    }

    /// <summary>Share of <paramref name="samples"/> whose top class is their label.</summary>
    public static double Accuracy(VisionTransformer model, IReadOnlyList<ShapeSample> samples, int batch = 250)
    {
        int correct = 0;
        using var _ = torch.no_grad();
        for (int start = 0; start < samples.Count; start += batch)
        {
            using var scope = torch.NewDisposeScope();
            var part = samples.Skip(start).Take(batch).ToList();
            var predicted = model.call(ShapesData.ToInput(part)).argmax(1).data<long>().ToArray();
            for (int i = 0; i < part.Count; i++) if (predicted[i] == part[i].Label) correct++;
        }
        return (double)correct / samples.Count;
    }

    /// <summary>Linear warm-up, then cosine decay to zero.</summary>
    private static double LearningRate(int step, Options o)
    {
        if (step < o.WarmupSteps) return o.LearningRate * (step + 1) / o.WarmupSteps;
        double t = (double)(step - o.WarmupSteps) / Math.Max(1, o.Steps - o.WarmupSteps);
        return o.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * t));
    }

    /// <summary>torchvision's initialisation where our constructor leaves tensors empty or zero.</summary>
    private static void Initialise(VisionTransformer model)
    {
        using var _ = torch.no_grad();
        nn.init.trunc_normal_(model.pos_embedding, std: 0.02);
        foreach (var block in model.layers)
        {
            nn.init.xavier_uniform_(block.self_attention.in_proj_weight);
            nn.init.zeros_(block.self_attention.in_proj_bias);
            nn.init.zeros_(block.self_attention.out_proj.bias!);
            foreach (var linear in new[] { block.mlp_0, block.mlp_3 })
            {
                nn.init.xavier_uniform_(linear.weight!);
                nn.init.normal_(linear.bias!, std: 1e-6);
            }
        }
        nn.init.zeros_(model.head.weight!);
        nn.init.zeros_(model.head.bias!);
    }

    /// <summary>config.json (the keys of torchvision's ViT config that <see cref="VitConfig.From"/> reads) and
    /// model.safetensors with torchvision's state-dict names.</summary>
    public static void Save(VisionTransformer model, VitConfig config, string modelDir)
    {
        Directory.CreateDirectory(modelDir);
        var json = new Dictionary<string, object>
        {
            ["image_size"] = config.ImageSize,
            ["patch_size"] = config.PatchSize,
            ["num_layers"] = config.Layers,
            ["num_heads"] = config.Heads,
            ["hidden_dim"] = config.HiddenDim,
            ["mlp_dim"] = config.MlpDim,
            ["num_classes"] = config.Classes,
            ["_class"] = "torchvision.models.vision_transformer.VisionTransformer",
            ["gamma_conv"] = config.GammaConv,
            ["gamma_linear"] = config.GammaLinear,
        };
        File.WriteAllText(Path.Combine(modelDir, "config.json"),
            JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in model.named_parameters())
            tensors[TorchvisionName(name)] = parameter.detach();
        SafetensorsFile.Write(Path.Combine(modelDir, "model.safetensors"), tensors,
            new Dictionary<string, string> { ["format"] = "pt", ["classes"] = string.Join(",", ShapesData.ClassNames) });
    }

    /// <summary>torchvision's state-dict name of one of <see cref="VisionTransformer"/>'s parameters (the mapping that
    /// <see cref="VitClassifier.Load"/> inverts).</summary>
    public static string TorchvisionName(string name)
    {
        if (name == "pos_embedding") return "encoder.pos_embedding";
        if (name.StartsWith("ln.", StringComparison.Ordinal)) return "encoder." + name;
        if (name.StartsWith("head.", StringComparison.Ordinal)) return "heads." + name;
        if (!name.StartsWith("layers.", StringComparison.Ordinal)) return name;
        var parts = name.Split('.');
        string rest = string.Join(".", parts, 2, parts.Length - 2).Replace("mlp_0.", "mlp.0.").Replace("mlp_3.", "mlp.3.");
        return $"encoder.layers.encoder_layer_{parts[1]}.{rest}";
    }
}
