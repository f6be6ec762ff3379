using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Vit;
using LrpGen.Visualization;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary>The options of <c>lrpgen explain-image</c>.</summary>
public sealed record ExplainImageOptions
{
    public required string ModelDir { get; init; }
    public string? ImagePath { get; init; }
    public string? PixelsPath { get; init; }
    public long? Target { get; init; }
    public LrpMethod Method { get; init; } = LrpMethod.AttnLrp;
    public double? GammaConv { get; init; }
    public double? GammaLinear { get; init; }
    public string? OutPath { get; init; }
    public string? JsonPath { get; init; }

    /// <summary>Explain the K most probable classes in one pass (<c>--top-k</c>); null: one class.</summary>
    public int? TopK { get; init; }

    /// <summary>The memory bound in bytes (<c>--max-memory</c>); null: the memory available.</summary>
    public long? MaxMemory { get; init; }
}

/// <summary><c>lrpgen explain-image</c>: a ViT's class logit explained at the pixels, with LXT's ViT recipe (Gamma on the
/// patch embedding and linears, CP-LRP in attention). Images are resized to the model's size and normalised as its
/// config.json says (optional image_mean / image_std); --pixels takes a safetensors file with a float tensor
/// "pixels" [1, 3, H, W] as is.</summary>
public sealed class ExplainImageCommand
{
    private readonly TextWriter _stdout;
    private readonly TextWriter _stderr;

    public ExplainImageCommand(TextWriter stdout, TextWriter stderr)
    {
        _stdout = stdout;
        _stderr = stderr;
    }

    /// <summary>Runs the command; a wrong argument throws <see cref="UsageException"/>, any other failure its own
    /// exception (<see cref="CommandFailures"/> turns either into the exit code).</summary>
    public int Run(ExplainImageOptions options)
    {
        CheckArguments(options);
        CheckMemory(options);
        using var vit = VitClassifier.Load(options.ModelDir);
        FiniteChecks.Weights(options.ModelDir, vit.Model);
        var (pixels, display) = options.PixelsPath is { } p ? LoadPixels(p, vit.Config) : LoadImage(options.ImagePath!, options.ModelDir, vit.Config);
        using (pixels)
        using (display)
        {
            if (options.Target is long t && (t < 0 || t >= vit.Config.Classes))
                throw new UsageException($"--target {t} is not one of the model's classes [0, {vit.Config.Classes}).");
            if (options.TopK is int k)
            {
                if (k > vit.Config.Classes)
                    throw new UsageException($"--top-k {k} is more than the model's {vit.Config.Classes} classes; give 1 to {vit.Config.Classes}.");
                RunTopK(options, vit, pixels, display, k);
                return ExitCodes.Success;
            }
            var (targets, logits, relevance) = vit.Explain(pixels, options.Method, options.Target is long target ? new[] { target } : null,
                options.GammaConv, options.GammaLinear);
            using (relevance)
            using (var map = relevance[0].sum(new long[] { 0 }))
            {
                FiniteChecks.Value($"the logit of class {targets[0]}", logits[0]);
                var values = map.data<float>().ToArray();
                FiniteChecks.Values("the relevance map", values);
                _stdout.WriteLine($"vit · {ChoiceNames.Name(options.Method)} · target class {targets[0]} · logit {logits[0].ToString("R", CultureInfo.InvariantCulture)}");
                float max = values.Select(Math.Abs).Max();
                _stdout.WriteLine($"relevance: sum {values.Sum().ToString("G6", CultureInfo.InvariantCulture)}, max |R| {max.ToString("G6", CultureInfo.InvariantCulture)} over {map.shape[0]}x{map.shape[1]} pixels");
                using var outputs = new StagedOutputs(_stderr);
                if (options.OutPath is { } image) outputs.Add(image, stream => WriteHeatmap(stream, image, map, display));
                if (options.JsonPath is { } json) outputs.Add(json, stream => ImageReport.WriteJson(stream, targets[0], logits[0], values, (int)map.shape[0], (int)map.shape[1]));
                outputs.Commit();
            }
        }
        return ExitCodes.Success;
    }

    /// <summary>--top-k: one forward and one batched backward; a line, a heatmap (NAME.topR-classC.EXT) and a JSON entry
    /// per class.</summary>
    private void RunTopK(ExplainImageOptions options, VitClassifier vit, Tensor pixels, Tensor? display, int k)
    {
        var (classes, logits, probabilities, relevance) = vit.ExplainTopK(pixels, k, options.Method, options.GammaConv, options.GammaLinear);
        using (relevance)
        using (var maps = relevance.select(1, 0).sum(new long[] { 1 }))
        {
            int height = (int)maps.shape[1], width = (int)maps.shape[2];
            _stdout.WriteLine($"vit · {ChoiceNames.Name(options.Method)} · top {k} classes, explained in one pass");
            using var outputs = new StagedOutputs(_stderr);
            var entries = new ImageClassJson[k];
            for (int r = 0; r < k; r++)
            {
                long cls = classes[0][r];
                FiniteChecks.Value($"the logit of class {cls}", logits[0][r]);
                using var map = maps[r];   // staged files are written at once: the map is not needed after the loop
                var values = map.data<float>().ToArray();
                FiniteChecks.Values($"the relevance map of class {cls}", values);
                float max = values.Select(Math.Abs).Max();
                _stdout.WriteLine($"#{r + 1} class {cls} · logit {logits[0][r].ToString("R", CultureInfo.InvariantCulture)} · probability "
                    + $"{probabilities[0][r].ToString("0.0000", CultureInfo.InvariantCulture)} · relevance sum {values.Sum().ToString("G6", CultureInfo.InvariantCulture)}, "
                    + $"max |R| {max.ToString("G6", CultureInfo.InvariantCulture)}");
                if (options.OutPath is { } image)
                {
                    string path = TopKPath(image, r + 1, cls);
                    outputs.Add(path, stream => WriteHeatmap(stream, path, map, display));
                }
                entries[r] = new ImageClassJson(r + 1, cls, logits[0][r], probabilities[0][r], ImageReport.Rows(values, height, width));
            }
            if (options.JsonPath is { } json) outputs.Add(json, stream => ImageReport.WriteTopKJson(stream, entries));
            outputs.Commit();
        }
    }

    /// <summary>The heatmap file of the class ranked <paramref name="rank"/>: heat.png -> heat.top1-class7.png.</summary>
    internal static string TopKPath(string path, int rank, long cls) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}.top{rank}-class{cls}{Path.GetExtension(path)}");

    /// <summary>Everything that needs no model: one input that is a file, the model folder, the outputs (PNG or JPEG
    /// by name, distinct, writable), finite non-negative gammas.</summary>
    private static void CheckArguments(ExplainImageOptions options)
    {
        if ((options.ImagePath is null) == (options.PixelsPath is null))
            throw new UsageException("give an image file or --pixels input.safetensors (one of them).");
        if (!Directory.Exists(options.ModelDir))
            throw new UsageException(File.Exists(options.ModelDir)
                ? $"model folder '{options.ModelDir}' is a file; give the ViT folder."
                : $"model folder '{options.ModelDir}' does not exist.");
        foreach (var (what, path) in new[] { ("image", options.ImagePath), ("--pixels", options.PixelsPath) })
        {
            if (path is null) continue;
            if (Directory.Exists(path)) throw new UsageException($"{what} '{path}' is a folder; give an image file.");
            if (!File.Exists(path)) throw new UsageException($"{what} '{path}' does not exist.");
        }
        if (options.OutPath is { } outPath)
        {
            try { HeatmapImage.FormatOf(outPath); }
            catch (ArgumentException e) { throw new UsageException($"--out {e.Message}"); }
        }
        OutputTargets.Check(("--out", options.OutPath), ("--json", options.JsonPath));
        if (options.TopK is int k && options.Target is long t)
            throw new UsageException($"--target {t} and --top-k {k}: give one (--top-k explains the K most probable classes).");
        if (options.TopK is < 1) throw new UsageException($"--top-k {options.TopK} must be at least 1.");
        foreach (var (name, value) in new[] { ("--gamma-conv", options.GammaConv), ("--gamma-linear", options.GammaLinear) })
            if (value is double g && !(g >= 0 && double.IsFinite(g)))
                throw new UsageException($"{name} must be a finite number >= 0, got {g.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>The model's estimated peak (weights from the safetensors header, the pass from config.json: patches
    /// plus the class token are its tokens) against the memory bound, before any weight is read.</summary>
    private static void CheckMemory(ExplainImageOptions options)
    {
        var configPath = Path.Combine(options.ModelDir, "config.json");
        var weightsPath = Path.Combine(options.ModelDir, "model.safetensors");
        if (!File.Exists(configPath) || !File.Exists(weightsPath)) return;   // the loader names what is missing
        VitConfig config;
        using (var doc = JsonDocument.Parse(File.ReadAllText(configPath)))
            config = VitConfig.From(doc.RootElement, configPath);
        var weights = SafetensorsFile.Open(weightsPath);
        long parameters = 0;
        foreach (var name in weights.TensorNames)
            parameters += weights.Shape(name).Aggregate(1L, (a, d) => a * d);
        long patches = (long)(config.ImageSize / config.PatchSize) * (config.ImageSize / config.PatchSize);
        if (MemoryBudget.Check(new PassShape(config.Layers, config.Heads, config.HiddenDim, config.MlpDim, 4 * parameters), patches + 1,
                options.MaxMemory, "explaining an image"))
            MallocTuning.ReturnLargeBlocks();
    }

    /// <summary>The heatmap beside the image, PNG or JPEG as the file's name says.</summary>
    private static void WriteHeatmap(Stream stream, string path, Tensor map, Tensor? display)
    {
        using var bitmap = HeatmapImage.Render(RelevanceMap.FromTensor(map), display is null ? null : RgbImage.FromTensor(display));
        var bytes = HeatmapImage.Encode(bitmap, HeatmapImage.FormatOf(path));
        stream.Write(bytes, 0, bytes.Length);
    }

    private static (Tensor Pixels, Tensor? Display) LoadPixels(string path, VitConfig config)
    {
        var file = SafetensorsFile.Open(path);
        if (!file.Contains("pixels")) throw new UsageException($"--pixels '{path}' has no tensor named 'pixels'.");
        var pixels = file.Load("pixels").to(ScalarType.Float32);
        try
        {
            var shape = pixels.shape;
            if (shape.Length != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] != config.ImageSize || shape[3] != config.ImageSize)
                throw new UsageException($"--pixels: 'pixels' is [{string.Join(", ", shape)}]; the model takes [1, 3, {config.ImageSize}, {config.ImageSize}].");
            FiniteChecks.Tensor($"--pixels '{path}': the tensor 'pixels'", pixels);
            return (pixels, null);
        }
        catch
        {
            pixels.Dispose();
            throw;
        }
    }

    /// <summary>Decodes, resizes (bilinear) and normalises an image; also returns the resized image in [0, 1] for display.</summary>
    private static (Tensor Pixels, Tensor? Display) LoadImage(string path, string modelDir, VitConfig config)
    {
        using var decoded = ImageInput.Decode(path);
        int size = config.ImageSize;
        using var resized = decoded.Resize(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear));
        var chw = new float[3 * size * size];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                var c = resized.GetPixel(x, y);
                chw[0 * size * size + y * size + x] = c.Red / 255f;
                chw[1 * size * size + y * size + x] = c.Green / 255f;
                chw[2 * size * size + y * size + x] = c.Blue / 255f;
            }
        var display = torch.tensor(chw).view(3, size, size);
        var (mean, std) = Normalisation(modelDir);
        using var meanT = torch.tensor(mean).view(3, 1, 1);
        using var stdT = torch.tensor(std).view(3, 1, 1);
        var pixels = display.sub(meanT).div(stdT).unsqueeze(0);
        return (pixels, display);
    }

    private static (float[] Mean, float[] Std) Normalisation(string modelDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDir, "config.json")));
        float[] Read(string key, float fallback) => doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray()
            : new[] { fallback, fallback, fallback };
        var mean = Read("image_mean", 0f);
        var std = Read("image_std", 1f);
        if (mean.Length != 3 || std.Length != 3 || std.Any(s => s <= 0))
            throw new CliRuntimeException($"{modelDir}/config.json: image_mean and image_std must have 3 entries (std > 0).");
        return (mean, std);
    }
}
