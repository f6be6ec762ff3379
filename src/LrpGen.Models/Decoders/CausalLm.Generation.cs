using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

public sealed partial class CausalLm
{
    /// <summary>Continues one prompt greedily (the top logit) by up to <paramref name="maxNewTokens"/> tokens, stopping
    /// after the model's end-of-sequence token.</summary>
    public GeneratedSequence Generate(long[] prompt, int maxNewTokens) =>
        Generate(new[] { prompt ?? throw new ArgumentNullException(nameof(prompt)) }, new GenerationOptions { MaxNewTokens = maxNewTokens })[0];

    /// <summary>Continues one prompt as <paramref name="options"/> say.</summary>
    public GeneratedSequence Generate(long[] prompt, GenerationOptions options) =>
        Generate(new[] { prompt ?? throw new ArgumentNullException(nameof(prompt)) }, options)[0];

    /// <summary>Continues a batch of prompts. Each step runs the plain forward (no relevance, no autograd) over the
    /// prompts still going, padded to one length (<see cref="GenerationOptions.PadLeft"/>: the attention mask hides the
    /// padding and positions count real tokens, so a prompt gets the tokens it gets alone), and appends each one's next
    /// token (<see cref="TokenSampler"/>). A prompt stops after an end-of-sequence token, once its generated text holds a
    /// stop string, or after <see cref="GenerationOptions.MaxNewTokens"/> tokens. The whole prefix is recomputed at
    /// every step (no key-value cache): the cost is that of <c>MaxNewTokens</c> forwards.</summary>
    public IReadOnlyList<GeneratedSequence> Generate(IReadOnlyList<long[]> prompts, GenerationOptions options)
    {
        if (prompts is null) throw new ArgumentNullException(nameof(prompts));
        if (options is null) throw new ArgumentNullException(nameof(options));
        options.Validate();
        CheckPrompts(prompts, nameof(prompts));
        var eos = new HashSet<long>(options.EosTokenIds ?? EosTokenIds);
        foreach (var id in eos)
            if (id < 0 || id >= Config.VocabSize)
                throw new ArgumentException($"end-of-sequence token {id} is outside the vocabulary [0, {Config.VocabSize}).", nameof(options));
        if (Config.MaxPositions > 0 && prompts.Max(p => p.Length) + options.MaxNewTokens - 1 is var longest && longest > Config.MaxPositions)
            throw new ArgumentException($"a prompt of {prompts.Max(p => p.Length)} tokens plus {options.MaxNewTokens} new tokens needs {longest} positions, "
                + $"more than the model's {Config.MaxPositions}: shorten the prompt or generate at most {Math.Max(0, Config.MaxPositions - prompts.Max(p => p.Length) + 1)} tokens.",
                nameof(options));

        int seed = options.Seed ?? Random.Shared.Next();
        var generators = options.Sampling ? prompts.Select((_, b) => new Random(unchecked(seed + b))).ToArray() : null;
        var generated = prompts.Select(_ => new List<long>()).ToArray();
        var stops = new GenerationStop?[prompts.Count];
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            var going = Enumerable.Range(0, prompts.Count).Where(b => stops[b] is null).ToArray();
            if (going.Length == 0) break;
            var sequences = going.Select(b => prompts[b].Concat(generated[b]).ToArray()).ToArray();
            var logits = NextTokenLogits(sequences, options.PadLeft);
            for (int i = 0; i < going.Length; i++)
            {
                int b = going[i];
                long token = TokenSampler.Next(logits[i], options, generators?[b]);
                generated[b].Add(token);
                if (eos.Contains(token)) stops[b] = GenerationStop.EndOfSequence;
                else if (options.StopStrings.Count > 0 && options.Decode!(generated[b]) is var text
                         && options.StopStrings.Any(stop => text.Contains(stop, StringComparison.Ordinal)))
                    stops[b] = GenerationStop.StopString;
            }
        }
        return prompts.Select((p, b) => new GeneratedSequence(p.ToArray(), generated[b].ToArray(), stops[b] ?? GenerationStop.MaxNewTokens)).ToArray();
    }

    /// <summary>The next-token logits (float32, on the CPU) after each sequence, from one padded forward.</summary>
    private float[][] NextTokenLogits(IReadOnlyList<long[]> sequences, bool padLeft)
    {
        using var scope = torch.NewDisposeScope();
        var (ids, mask) = Padded(sequences, padLeft);
        using var noGrad = torch.no_grad();
        using var onDevice = ids.to(Device);
        using var maskOnDevice = mask.to(Device);
        using var inputs = DecoderInputs.Prepare(Config, onDevice, maskOnDevice, DType, Device, rotary: _module.Rotary);
        var embeds = Embeddings.forward(onDevice);
        var logits = _module.Plain(embeds, inputs).to(ScalarType.Float32, torch.CPU);
        var all = logits.data<float>().ToArray();
        long vocab = logits.shape[1];
        var rows = new float[sequences.Count][];
        for (int b = 0; b < rows.Length; b++) rows[b] = all.AsSpan((int)(b * vocab), (int)vocab).ToArray();
        return rows;
    }

    /// <summary>Token ids and attention mask [B, T] of sequences padded to the longest (padding id 0, mask 0).</summary>
    private static (Tensor Ids, Tensor Mask) Padded(IReadOnlyList<long[]> sequences, bool padLeft)
    {
        int length = sequences.Max(s => s.Length);
        var ids = new long[sequences.Count, length];
        var mask = new long[sequences.Count, length];
        for (int b = 0; b < sequences.Count; b++)
        {
            int offset = padLeft ? length - sequences[b].Length : 0;
            for (int i = 0; i < sequences[b].Length; i++)
            {
                ids[b, offset + i] = sequences[b][i];
                mask[b, offset + i] = 1;
            }
        }
        return (torch.tensor(ids), torch.tensor(mask));
    }

    /// <summary>Prompts must be non-empty lists of ids in the vocabulary; the message names the prompt and the id.</summary>
    private void CheckPrompts(IReadOnlyList<long[]> prompts, string parameter)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompts: give at least one.", parameter);
        for (int b = 0; b < prompts.Count; b++)
        {
            if (prompts[b] is null || prompts[b].Length == 0) throw new ArgumentException($"prompt {b} is empty: give at least one token.", parameter);
            for (int i = 0; i < prompts[b].Length; i++)
                if (prompts[b][i] < 0 || prompts[b][i] >= Config.VocabSize)
                    throw new ArgumentException($"prompt {b}: token id {prompts[b][i]} at position {i} is outside the vocabulary [0, {Config.VocabSize}).", parameter);
        }
    }
}
