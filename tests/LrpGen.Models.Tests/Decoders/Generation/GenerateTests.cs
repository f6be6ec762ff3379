using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Generation;

/// <summary>Generation against a hand-written loop over the model's plain single-prompt forward (<see cref="CausalLm.Logits"/>,
/// which the golden tests check against LXT): greedy tokens, batches padded either way, sampling with a seed, EOS and
/// stop strings, and the option errors.</summary>
public class GenerateTests
{
    private static readonly long[][] Prompts =
    {
        new long[] { 5, 17, 3, 42, 8, 23, 11 },
        new long[] { 60, 2 },
        new long[] { 9, 9, 31, 77, 4 },
    };

    /// <summary>The next-token logits after <paramref name="sequence"/> alone, as float32 on the CPU.</summary>
    private static float[] NextLogits(CausalLm lm, long[] sequence)
    {
        using var ids = torch.tensor(sequence).unsqueeze(0);
        using var embeds = lm.Embed(ids);
        using var noGrad = torch.no_grad();
        using var logits = lm.Logits(embeds);
        return logits[0].to(ScalarType.Float32).data<float>().ToArray();
    }

    private static long ArgMax(float[] logits) => Array.IndexOf(logits, logits.Max());

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    [InlineData("qwen3moe")]
    public void GreedyTokensAreTheArgmaxOfEachStep(string model)
    {
        using var lm = CausalLm.Load(GoldenData.Folder(model));
        var prompt = Prompts[0];
        var generated = lm.Generate(prompt, new GenerationOptions { MaxNewTokens = 6, EosTokenIds = Array.Empty<long>() });
        var sequence = prompt.ToList();
        for (int step = 0; step < 6; step++) sequence.Add(ArgMax(NextLogits(lm, sequence.ToArray())));
        Assert.Equal(sequence.Skip(prompt.Length), generated.Tokens);
        Assert.Equal(prompt, generated.Prompt);
        Assert.Equal(GenerationStop.MaxNewTokens, generated.Stop);
    }

    [Theory]
    [InlineData("llama", true)]
    [InlineData("llama", false)]
    [InlineData("gpt2", false)]
    [InlineData("gpt2", true)]
    public void BatchedPromptsGetTheTokensTheyGetAlone(string model, bool padLeft)
    {
        using var lm = CausalLm.Load(GoldenData.Folder(model));
        var options = new GenerationOptions { MaxNewTokens = 5, EosTokenIds = Array.Empty<long>(), PadLeft = padLeft };
        var batch = lm.Generate(Prompts, options);
        for (int b = 0; b < Prompts.Length; b++)
            Assert.Equal(lm.Generate(Prompts[b], options).Tokens, batch[b].Tokens);
    }

    [Fact]
    public void SamplingIsDeterministicPerSeedAndPerPrompt()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var options = new GenerationOptions { MaxNewTokens = 8, Temperature = 1.5, TopK = 20, TopP = 0.95, Seed = 42, EosTokenIds = Array.Empty<long>() };
        var first = lm.Generate(Prompts, options);
        var again = lm.Generate(Prompts, options);
        for (int b = 0; b < Prompts.Length; b++) Assert.Equal(first[b].Tokens, again[b].Tokens);
        // Prompt b draws with seed Seed + b: alone with that seed it gets the same tokens.
        for (int b = 0; b < Prompts.Length; b++)
            Assert.Equal(first[b].Tokens, lm.Generate(Prompts[b], options with { Seed = 42 + b }).Tokens);
        // Another seed draws another continuation somewhere (a high temperature over 96 tokens).
        var other = lm.Generate(Prompts, options with { Seed = 7 });
        Assert.Contains(Enumerable.Range(0, Prompts.Length), b => !other[b].Tokens.SequenceEqual(first[b].Tokens));
        // Each sampled token is one the step's distribution allows (among the top 20).
        var sequence = Prompts[0].ToList();
        foreach (var token in first[0].Tokens)
        {
            var p = TokenSampler.Probabilities(NextLogits(lm, sequence.ToArray()), options);
            Assert.True(p[token] > 0, $"token {token} was drawn outside the kept set");
            sequence.Add(token);
        }
    }

    [Fact]
    public void TopKOfOneIsGreedy()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var greedy = lm.Generate(Prompts[2], new GenerationOptions { MaxNewTokens = 6, EosTokenIds = Array.Empty<long>() });
        var sampled = lm.Generate(Prompts[2], new GenerationOptions { MaxNewTokens = 6, Temperature = 3, TopK = 1, Seed = 1, EosTokenIds = Array.Empty<long>() });
        Assert.Equal(greedy.Tokens, sampled.Tokens);
    }

    [Fact]
    public void EndOfSequenceStopsAPromptAndIsKept()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var free = lm.Generate(Prompts, new GenerationOptions { MaxNewTokens = 6, EosTokenIds = Array.Empty<long>() });
        // Prompt 0's third token as the end of sequence: prompt 0 stops there, the others go on unless they meet it.
        long eos = free[0].Tokens[2];
        int stopAt = Array.IndexOf(free[0].Tokens, eos);
        var stopped = lm.Generate(Prompts, new GenerationOptions { MaxNewTokens = 6, EosTokenIds = new[] { eos } });
        Assert.Equal(free[0].Tokens.Take(stopAt + 1), stopped[0].Tokens);
        Assert.Equal(GenerationStop.EndOfSequence, stopped[0].Stop);
        for (int b = 1; b < Prompts.Length; b++)
        {
            int at = Array.IndexOf(free[b].Tokens, eos);
            Assert.Equal(at < 0 ? free[b].Tokens : free[b].Tokens.Take(at + 1).ToArray(), stopped[b].Tokens);
        }
    }

    [Fact]
    public void StopStringEndsGenerationWithTheTokensThatCompleteIt()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        var free = lm.Generate(Prompts[0], new GenerationOptions { MaxNewTokens = 6, EosTokenIds = Array.Empty<long>() });
        static string Decode(System.Collections.Generic.IReadOnlyList<long> ids) => string.Concat(ids.Select(id => $"<{id}>"));
        // The text of tokens 2 and 3 together: generation ends after token 3.
        var stop = $"<{free.Tokens[1]}><{free.Tokens[2]}>";
        // The first prefix of the free run whose text holds the stop string (the text of a token pair: at most 3 tokens).
        int expected = Enumerable.Range(1, free.Tokens.Length).First(n => Decode(free.Tokens.Take(n).ToArray()).Contains(stop, StringComparison.Ordinal));
        var stopped = lm.Generate(Prompts[0], new GenerationOptions { MaxNewTokens = 6, EosTokenIds = Array.Empty<long>(), StopStrings = new[] { stop }, Decode = Decode });
        Assert.Equal(free.Tokens.Take(expected), stopped.Tokens);
        Assert.True(expected <= 3);
        Assert.Equal(GenerationStop.StopString, stopped.Stop);
    }

    [Fact]
    public void EndOfSequenceComesFromGenerationConfigThenConfig()
    {
        using (var lm = CausalLm.Load(GoldenData.Folder("llama")))
            Assert.Equal(new long[] { 2 }, lm.EosTokenIds);           // config.json: "eos_token_id": 2
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama");
        File.WriteAllText(Path.Combine(folder, EndOfSequence.GenerationConfigFileName), """{ "eos_token_id": [7, 11] }""");
        using (var lm = CausalLm.Load(folder))
            Assert.Equal(new long[] { 7, 11 }, lm.EosTokenIds);
        // An id the model cannot produce (GPT-2's 50256 kept by a small model) is left out.
        File.WriteAllText(Path.Combine(folder, EndOfSequence.GenerationConfigFileName), """{ "eos_token_id": [500, 3] }""");
        using (var lm = CausalLm.Load(folder))
            Assert.Equal(new long[] { 3 }, lm.EosTokenIds);
        File.WriteAllText(Path.Combine(folder, EndOfSequence.GenerationConfigFileName), """{ "eos_token_id": "</s>" }""");
        var e = Assert.Throws<CheckpointException>(() => CausalLm.Load(folder).Dispose());
        Assert.Contains("eos_token_id \"</s>\" is not a token id", e.Message);
    }

    [Fact]
    public void WrongOptionsAreOneLineErrors()
    {
        using var lm = CausalLm.Load(GoldenData.Folder("llama"));
        void Fails(GenerationOptions options, string message, long[]? prompt = null)
        {
            var e = Assert.Throws<ArgumentException>(() => lm.Generate(prompt ?? Prompts[0], options));
            Assert.Contains(message, e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Fails(new GenerationOptions { MaxNewTokens = 0 }, "generate at least one token");
        Fails(new GenerationOptions { Temperature = -1 }, "Temperature -1 is not a finite number >= 0");
        Fails(new GenerationOptions { Temperature = double.NaN }, "Temperature NaN");
        Fails(new GenerationOptions { Temperature = 1, TopK = 0 }, "TopK 0 is not at least 1");
        Fails(new GenerationOptions { Temperature = 1, TopP = 1.5 }, "TopP 1.5 is not in (0, 1]");
        Fails(new GenerationOptions { TopK = 5 }, "Temperature is 0 (greedy)");
        Fails(new GenerationOptions { StopStrings = new[] { "x" } }, "StopStrings need Decode");
        Fails(new GenerationOptions { StopStrings = new[] { "" }, Decode = _ => "" }, "a stop string is empty");
        Fails(new GenerationOptions { EosTokenIds = new long[] { 96 } }, "end-of-sequence token 96 is outside the vocabulary [0, 96)");
        Fails(new GenerationOptions(), "prompt 0: token id 96 at position 1 is outside the vocabulary", new long[] { 1, 96 });
        Fails(new GenerationOptions(), "prompt 0 is empty", Array.Empty<long>());
        // 128 positions (max_position_embeddings): 120 prompt tokens plus 10 new ones need 129.
        Fails(new GenerationOptions { MaxNewTokens = 10 }, "needs 129 positions, more than the model's 128: shorten the prompt or generate at most 9 tokens",
            Enumerable.Repeat(5L, 120).ToArray());
    }
}
