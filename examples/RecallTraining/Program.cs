using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using LrpGen.Evaluation;
using LrpGen.Models.Decoders;
using RecallTraining;

// dotnet run --project examples/RecallTraining -c Release              load model/ and report its held-out accuracy
// dotnet run --project examples/RecallTraining -c Release -- --retrain [--steps N] [--seed S] [--model DIR]
var projectDirectory = Assembly.GetExecutingAssembly().GetCustomAttributes<AssemblyMetadataAttribute>()
    .First(a => a.Key == "ProjectDirectory").Value!;
string folder = Path.Combine(projectDirectory, "model");
bool retrain = false;
int steps = 6000, seed = 1, batch = 64, heldOut = 2000, threads = 1;
double learningRate = 3e-3;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--retrain": retrain = true; break;
        case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": learningRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--held-out": heldOut = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--hidden": RecallTrainer.Config = RecallTrainer.Config with { HiddenSize = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--heads": RecallTrainer.Config = RecallTrainer.Config with { Heads = int.Parse(Next(), CultureInfo.InvariantCulture), KvHeads = int.Parse(args[i], CultureInfo.InvariantCulture) }; break;
        case "--layers": RecallTrainer.Config = RecallTrainer.Config with { Layers = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--mlp": RecallTrainer.Config = RecallTrainer.Config with { IntermediateSize = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
        case "--rounds": RecallTrainer.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--model": folder = Path.GetFullPath(Next()); break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'. Usage: RecallTraining [--retrain] [--steps N] [--seed S] [--batch B] [--lr X] [--held-out N] [--threads N] [--model DIR]");
            return 2;
    }
}
var progress = new Progress(Console.Error);
if (retrain)
{
    var (model, report) = RecallTrainer.Train(steps, seed, batch, learningRate, threads, progress);
    using (model)
    {
        LlamaCheckpoint.Save(model, RecallTrainer.Config, folder);
    }
    progress.Report($"trained {report.Steps} steps in {report.Seconds:0} s (final loss {report.FinalLoss:0.0000}); saved {folder}");
    using var saved = CausalLm.Load(folder);
    double accuracy = RecallTrainer.Accuracy(saved, RecallTask.HeldOut(heldOut, seed: 12345));
    var info = new
    {
        task = "key-value recall (LrpGen.Evaluation.RecallTask): <s> k3=v3b k1=v1d k6=v6a ; k1= predicts v1d; 2 to 6 pairs, 8 keys, 4 values per key",
        parameters = report.Parameters,
        steps = report.Steps,
        batch,
        learning_rate = learningRate,
        seed,
        seconds = Math.Round(report.Seconds, 1),
        threads = TorchSharp.torch.get_num_threads(),
        final_loss = Math.Round(report.FinalLoss, 5),
        training_accuracy_last_200_batches = Math.Round(report.TrainingAccuracy, 4),
        held_out_prompts = heldOut,
        held_out_accuracy = Math.Round(accuracy, 4),
    };
    File.WriteAllText(Path.Combine(folder, "training.json"), JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    Console.WriteLine($"held-out accuracy: {accuracy:0.0000} on {heldOut} prompts the training never drew");
}
else
{
    if (!File.Exists(Path.Combine(folder, "config.json")))
    {
        Console.Error.WriteLine($"no saved model in {folder}: run with --retrain to train one.");
        return 1;
    }
    using var saved = CausalLm.Load(folder);
    var prompts = RecallTask.HeldOut(heldOut, seed: 12345);
    double accuracy = RecallTrainer.Accuracy(saved, prompts);
    Console.WriteLine($"loaded {folder}");
    Console.WriteLine($"held-out accuracy: {accuracy:0.0000} on {heldOut} prompts the training never drew");
    var example = prompts[0];
    using var ids = TorchSharp.torch.tensor(example.Ids).unsqueeze(0);
    using var logits = saved.Logits(saved.Embed(ids));
    long predicted = logits.argmax(1).item<long>();
    Console.WriteLine($"e.g. {example.Text}  =>  {RecallTask.Vocabulary[(int)predicted]} (answer {RecallTask.Vocabulary[(int)example.Answer]})");
}
return 0;

/// <summary>Progress lines on stderr with the seconds since the start.</summary>
internal sealed class Progress : IProgress<string>
{
    private readonly TextWriter _writer;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    public Progress(TextWriter writer) => _writer = writer;
    public void Report(string value) => _writer.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {value}");
}
