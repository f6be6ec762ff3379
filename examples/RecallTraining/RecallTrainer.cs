using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using LrpGen.Evaluation;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace RecallTraining;

/// <summary>What a training run did.</summary>
public sealed record TrainingReport(int Steps, double Seconds, double FinalLoss, double TrainingAccuracy, long Parameters);

/// <summary>Trains <see cref="LlamaForCausalLM"/> on <see cref="RecallTask"/>: each training sequence is a prompt
/// followed by queries of its other keys (see <see cref="AllQueries"/>), with the next-token cross-entropy at every
/// "->"; batches of left-padded sequences; AdamW with warm-up and cosine decay. Training stops when the accuracy on the
/// prompts themselves (the first query) over the last 200 batches reaches 99.8%, or at the step limit.</summary>
public static class RecallTrainer
{
    /// <summary>How many times each key is queried after the prompt in a training sequence.</summary>
    public static int Rounds { get; set; } = 1;

    public static DecoderConfig Config { get; set; } = new()
    {
        ModelType = "llama",
        VocabSize = RecallTask.VocabSize,
        HiddenSize = 64,
        IntermediateSize = 128,
        Layers = 2,
        Heads = 4,
        KvHeads = 4,
        HeadDim = 16,
        RmsNormEps = 1e-6,
        RopeTheta = 10000,
        MaxPositions = 64,
    };

    public static (LlamaForCausalLM Model, TrainingReport Report) Train(int maxSteps, int seed, int batch, double learningRate, int threads, IProgress<string> progress)
    {
        torch.manual_seed(seed);
        torch.set_num_threads(threads);
        var config = Config;
        var model = new LlamaForCausalLM(config);
        Initialise(model);
        model.train();
        long parameters = model.parameters().Sum(p => p.numel());
        progress.Report($"LlamaForCausalLM: {config.Layers} layers, hidden {config.HiddenSize}, {config.Heads} heads, MLP {config.IntermediateSize}, vocabulary {config.VocabSize}: {parameters:N0} parameters");
        var optimizer = torch.optim.AdamW(model.parameters(), lr: learningRate, weight_decay: 0.01);
        var prompts = RecallTask.Training(seed).GetEnumerator();
        var random = new Random(seed + 1);
        var recent = new Queue<double>();
        double loss = double.NaN;
        int step = 0;
        var clock = Stopwatch.StartNew();
        int warmup = Math.Min(200, maxSteps / 10);
        for (step = 1; step <= maxSteps; step++)
        {
            double lr = step <= warmup ? learningRate * step / warmup
                : learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, maxSteps - warmup))));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            using var scope = torch.NewDisposeScope();
            var items = new List<(long[] Ids, int[] Queries, long[] Answers)>(batch);
            for (int i = 0; i < batch; i++)
            {
                prompts.MoveNext();
                items.Add(AllQueries(prompts.Current, random));
            }
            var (ids, mask, rows, answers, first) = Batch(items);
            using var inputs = DecoderInputs.Prepare(config, ids, mask, ScalarType.Float32, torch.CPU, rotary: true);
            var embeds = model.embed_tokens.forward(ids);
            var logits = model.forward(embeds, inputs.LayerCos!, inputs.LayerSin!, inputs.LayerMasks, rows);
            var lossTensor = nn.functional.cross_entropy(logits, answers);
            optimizer.zero_grad();
            lossTensor.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            optimizer.step();
            loss = lossTensor.item<float>();
            // Accuracy on the first query of each sequence: the evaluated prompt format.
            double accuracy = logits.index_select(0, first).argmax(1).eq(answers.index_select(0, first)).to(ScalarType.Float32).mean().item<float>();
            recent.Enqueue(accuracy);
            if (recent.Count > 200) recent.Dequeue();
            if (step % 250 == 0)
                progress.Report($"step {step}: loss {loss.ToString("0.0000", CultureInfo.InvariantCulture)}, training accuracy (last {recent.Count} batches) {recent.Average().ToString("0.0000", CultureInfo.InvariantCulture)}, lr {lr.ToString("0.00000", CultureInfo.InvariantCulture)}");
            if (recent.Count == 200 && recent.Average() >= 0.998)
            {
                progress.Report($"step {step}: training accuracy {recent.Average().ToString("0.0000", CultureInfo.InvariantCulture)} over the last 200 batches: stop");
                break;
            }
        }
        model.eval();
        return (model, new TrainingReport(Math.Min(step, maxSteps), clock.Elapsed.TotalSeconds, loss, recent.Count > 0 ? recent.Average() : 0, parameters));
    }

    /// <summary>A training sequence: the prompt, its answer, then its keys queried again in random order ("; k9= v4"),
    /// <see cref="Rounds"/> times, so that each sequence gives several loss terms (the next-token loss after every
    /// queried key). Its first query is the prompt itself, the evaluated format; the prompt is never a held-out one.</summary>
    public static (long[] Ids, int[] Queries, long[] Answers) AllQueries(RecallPrompt prompt, Random random)
    {
        int pairs = (prompt.Ids.Length - 3) / 2;
        var ids = new List<long>(prompt.Ids);
        var queries = new List<int> { ids.Count - 1 };
        var answers = new List<long> { prompt.Answer };
        for (int round = 0; round < Rounds; round++)
        {
            var order = Enumerable.Range(0, pairs).Where(k => round > 0 || 2 + 2 * k != prompt.AnswerPosition).OrderBy(_ => random.Next()).ToList();
            foreach (var k in order)
            {
                ids.Add(answers[^1]);
                ids.Add(RecallTask.Semicolon);
                ids.Add(prompt.Ids[1 + 2 * k]);
                queries.Add(ids.Count - 1);
                answers.Add(prompt.Ids[2 + 2 * k]);
            }
        }
        return (ids.ToArray(), queries.ToArray(), answers.ToArray());
    }

    /// <summary>Left-padded ids and mask [B, T], the flattened rows of every query position, their answers, and which
    /// rows are first queries.</summary>
    private static (Tensor Ids, Tensor Mask, Tensor Rows, Tensor Answers, Tensor First) Batch(IReadOnlyList<(long[] Ids, int[] Queries, long[] Answers)> items)
    {
        int length = items.Max(p => p.Ids.Length);
        var ids = new long[items.Count, length];
        var mask = new long[items.Count, length];
        var rows = new List<long>();
        var answers = new List<long>();
        var first = new List<long>();
        for (int b = 0; b < items.Count; b++)
        {
            int offset = length - items[b].Ids.Length;
            for (int i = 0; i < items[b].Ids.Length; i++)
            {
                ids[b, offset + i] = items[b].Ids[i];
                mask[b, offset + i] = 1;
            }
            first.Add(rows.Count);
            for (int q = 0; q < items[b].Queries.Length; q++)
            {
                rows.Add((long)b * length + offset + items[b].Queries[q]);
                answers.Add(items[b].Answers[q]);
            }
        }
        return (torch.tensor(ids), torch.tensor(mask), torch.tensor(rows.ToArray()), torch.tensor(answers.ToArray()), torch.tensor(first.ToArray()));
    }

    /// <summary>Left-pads prompts to one length: ids [B, T] and mask [B, T] (1 = token).</summary>
    public static (Tensor Ids, Tensor Mask) Pad(IReadOnlyList<RecallPrompt> prompts)
    {
        int length = prompts.Max(p => p.Ids.Length);
        var ids = new long[prompts.Count, length];
        var mask = new long[prompts.Count, length];
        for (int b = 0; b < prompts.Count; b++)
        {
            int offset = length - prompts[b].Ids.Length;
            for (int i = 0; i < prompts[b].Ids.Length; i++)
            {
                ids[b, offset + i] = prompts[b].Ids[i];
                mask[b, offset + i] = 1;
            }
        }
        return (torch.tensor(ids), torch.tensor(mask));
    }

    /// <summary>Accuracy of a loaded model on prompts: the top next-token logit is the answer.</summary>
    public static double Accuracy(CausalLm model, IReadOnlyList<RecallPrompt> prompts, int batch = 250)
    {
        int correct = 0;
        for (int start = 0; start < prompts.Count; start += batch)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var chunk = prompts.Skip(start).Take(batch).ToList();
            var (ids, mask) = Pad(chunk);
            var predicted = model.Logits(model.Embed(ids), mask).argmax(1).data<long>().ToArray();
            correct += chunk.Where((p, i) => predicted[i] == p.Answer).Count();
        }
        return correct / (double)prompts.Count;
    }

    /// <summary>Hugging Face's LLaMA initialisation: normal(0, 0.02) weights, zero biases; RMSNorm weights stay 1.</summary>
    private static void Initialise(LlamaForCausalLM model)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.EndsWith("layernorm.weight", StringComparison.Ordinal) || name == "norm.weight") continue;
            if (name.EndsWith(".bias", StringComparison.Ordinal)) parameter.zero_();
            else nn.init.normal_(parameter, 0, 0.02);
        }
    }
}
