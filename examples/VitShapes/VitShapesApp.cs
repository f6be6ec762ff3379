using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using LrpGen.Models.Vit;
using TorchSharp;

namespace VitShapes;

/// <summary>The example's command line: optionally train, then run the pointing game and write the figures.</summary>
public static class VitShapesApp
{
    public static readonly string Usage =
        "usage: VitShapes [--train] [--steps N] [--model DIR] [--images N] [--figures DIR] [--examples N] [--threads N]\n" +
        "  --train        train the ViT first (a few minutes on one core) and save it into the model folder\n" +
        $"  --steps N      training steps of 128 fresh images (default {new Training.Options().Steps})\n" +
        "  --model DIR    the model folder (default: examples/VitShapes/model of this repository, else the copy beside the program)\n" +
        "  --images N     test images for the pointing game (default 2000)\n" +
        "  --figures DIR  write grid.png, side-by-side.png and pointing-game.md there\n" +
        "  --examples N   grid rows per class (default 1: the first test image of each class, not picked)\n" +
        "  --threads N    TorchSharp CPU threads (default 1: deterministic, and fastest on a busy machine)";

    public static int Run(string[] args, TextWriter output)
    {
        bool train = false;
        int steps = new Training.Options().Steps, images = 2000, examples = 1, threads = 1;
        string? modelDir = null, figures = null;
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                int Count(int min) => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= min
                    ? v : throw new ArgumentException($"{args[i - 1]} needs a whole number >= {min}.");
                switch (args[i])
                {
                    case "--train": train = true; break;
                    case "--steps": steps = Count(1); break;
                    case "--model": modelDir = Next(); break;
                    case "--images": images = Count(1); break;
                    case "--figures": figures = Next(); break;
                    case "--examples": examples = Count(0); break;
                    case "--threads": threads = Count(1); break;
                    case "-h" or "--help": output.WriteLine(Usage); return 0;
                    default: throw new ArgumentException($"unknown argument '{args[i]}'.");
                }
            }
        }
        catch (ArgumentException e)
        {
            output.WriteLine($"error: {e.Message}");
            output.WriteLine(Usage);
            return 2;
        }

        torch.set_num_threads(threads);
        modelDir ??= DefaultModelDir(train);
        if (train)
        {
            output.WriteLine($"training {Training.Config} for {steps} steps of 128 images on {threads} thread(s)");
            var result = Training.Train(modelDir, new Training.Options(Steps: steps), output);
            output.WriteLine($"trained in {result.Elapsed.TotalSeconds:F0} s ({result.Images} images); accuracy on {new Training.Options().Validation} validation images: {100 * result.ValidationAccuracy:F1} %");
            output.WriteLine($"saved {Path.Combine(modelDir, "config.json")} and model.safetensors");
        }

        using var vit = VitClassifier.Load(modelDir);
        var test = ShapesData.Generate(Training.TestSeed, 0, images);
        var clock = Stopwatch.StartNew();
        var report = PointingGame.Evaluate(vit, test, examplesPerClass: examples);
        clock.Stop();
        output.WriteLine($"model {Path.GetFullPath(modelDir)}, evaluated in {clock.Elapsed.TotalSeconds:F1} s");
        var gradient = report.Scores.First(s => s.Method == "input x gradient");
        string summary =
            $"{report.Images} test images (seed {Training.TestSeed}): accuracy {100 * report.Accuracy:F1} %; the object's box covers " +
            $"{100 * report.MeanBoxShare:F1} % of the image on average (the chance level of the strict pointing game and of the share).\n\n" +
            PointingGame.Table(report) + "\n\n" +
            string.Join("\n", report.Scores.Where(s => s.Method.StartsWith("AttnLRP", StringComparison.Ordinal))
                .Select(s => "- " + PointingGame.Compare(s, gradient))) + "\n";
        output.WriteLine();
        output.Write(summary);

        if (figures is not null)
        {
            Directory.CreateDirectory(figures);
            if (report.Examples.Count > 0)
            {
                Figures.WriteGrid(Path.Combine(figures, "grid.png"), report.Examples);
                Figures.WriteSideBySide(Path.Combine(figures, "side-by-side.png"), report.Examples[0], method: 0);
            }
            File.WriteAllText(Path.Combine(figures, "pointing-game.md"), summary);
            output.WriteLine();
            output.WriteLine($"wrote {Path.Combine(figures, "grid.png")}, side-by-side.png and pointing-game.md");
        }
        return 0;
    }

    /// <summary>examples/VitShapes/model of the repository that holds the working folder; else (not training) the copy
    /// beside the program.</summary>
    private static string DefaultModelDir(bool train)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "examples", "VitShapes", "VitShapes.csproj")))
                return Path.Combine(dir.FullName, "examples", "VitShapes", "model");
        if (train) throw new InvalidOperationException("run --train inside the repository, or name the folder with --model.");
        return Path.Combine(AppContext.BaseDirectory, "model");
    }
}
