using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary><c>lrpgen generate</c> on the golden LLaMA: each row of its matrix against <c>lrpgen explain</c> on the same
/// prefix (the acceptance check), the terminal output, sampling options and the argument errors.</summary>
public class GenerateCommandTests
{
    private const string Prompt = "5,17,3,42,8,23";

    private static string TokenizerFixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer.json");

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Theory]
    [InlineData("attnlrp")]
    [InlineData("gradx")]
    public void EachRowEqualsExplainOnItsPrefix(string method)
    {
        using var temp = new TempFolder();
        var json = temp.File("generate.json");
        var run = CliRun.Plain("generate", GoldenData.Folder("llama"), "--ids", Prompt, "--max-new-tokens", "4", "--method", method, "--json", json);
        Assert.True(run.ExitCode == 0, run.ToString());
        using var report = TempFolder.ReadJson(json);
        var root = report.RootElement;
        Assert.Equal("llama", root.GetProperty("model_type").GetString());
        Assert.Equal(method, root.GetProperty("method").GetString());
        var prompt = root.GetProperty("prompt_tokens").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        Assert.Equal(Prompt.Split(',').Select(long.Parse), prompt);
        var generated = root.GetProperty("generated").EnumerateArray().ToArray();
        var rows = root.GetProperty("relevance").EnumerateArray().Select(Floats).ToArray();
        Assert.Equal(4, generated.Length);
        Assert.Equal(generated.Length, rows.Length);

        var sequence = prompt.ToList();
        for (int s = 0; s < generated.Length; s++)
        {
            long token = generated[s].GetProperty("id").GetInt64();
            var row = rows[s];
            Assert.Equal(prompt.Length + generated.Length, row.Length);
            var single = temp.File($"explain{s}.json");
            var explain = CliRun.Plain("explain", GoldenData.Folder("llama"), "--ids", string.Join(",", sequence), "--target", token.ToString(),
                "--method", method, "--json", single);
            Assert.True(explain.ExitCode == 0, explain.ToString());
            using var expected = TempFolder.ReadJson(single);
            var relevance = Floats(expected.RootElement.GetProperty("relevance"));
            Assert.Equal(sequence.Count, relevance.Length);
            double scale = relevance.Max(Math.Abs);
            for (int t = 0; t < sequence.Count; t++)
                Assert.True(Math.Abs(row[t] - relevance[t]) <= 1e-5 * scale, $"row {s}, position {t}: generate {row[t]}, explain {relevance[t]} (max {scale})");
            for (int t = sequence.Count; t < row.Length; t++)
                Assert.True(row[t] == 0, $"row {s}, position {t} is not before the token but has relevance {row[t]}");
            Assert.Equal(expected.RootElement.GetProperty("logit").GetSingle(), generated[s].GetProperty("logit").GetSingle(), 4);
            float prob = generated[s].GetProperty("prob").GetSingle();
            Assert.InRange(prob, 0f, 1f);
            Assert.Equal(JsonValueKind.Null, generated[s].GetProperty("piece").ValueKind);   // no tokenizer in the golden folder
            sequence.Add(token);
        }
        // The generated tokens are greedy: each is explain's default target (the top logit) on its prefix.
        var last = CliRun.Plain("explain", GoldenData.Folder("llama"), "--ids", string.Join(",", sequence.Take(sequence.Count - 1)));
        Assert.Contains($"target: {sequence[^1]} ", last.Stdout);
    }

    [Fact]
    public void TerminalShowsTheTextAndEachTokensMostRelevantInputs()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", TokenizerFixture));
        var plain = CliRun.Plain("generate", folder, "--text", "the cat sat on the", "--max-new-tokens", "3");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        // Ordinal: xunit compares strings by culture, which ignores the escape character itself.
        Assert.False(plain.Stdout.Contains('\u001b'), "escape sequences in plain output");
        var lines = plain.Stdout.Split('\n');
        Assert.StartsWith("llama · attnlrp · 6 prompt tokens + 3 generated (stopped: max-new-tokens)", lines[0]);
        Assert.Contains("the cat sat on the|", lines[2]);   // the prompt, a bar, the generated text
        Assert.Contains("most relevant inputs", plain.Stdout);
        // One line per generated token, each listing five inputs as text@position value.
        var rows = lines.SkipWhile(l => !l.Contains("most relevant inputs")).Skip(1).Where(l => l.Length > 0).ToArray();
        Assert.Equal(3, rows.Length);
        foreach (var row in rows) Assert.Equal(5, row.Split('@').Length - 1);

        var coloured = CliRun.Of("generate", folder, "--text", "the cat sat on the", "--max-new-tokens", "3");
        Assert.True(coloured.ExitCode == 0, coloured.ToString());
        Assert.Contains("\u001b[48;2;", coloured.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A word-level tokenizer.json that names every id of the golden LLaMA: k2k .. k95k (the k on both sides
    /// keeps one token's text from being part of another's), so every generated token has text.</summary>
    internal static string WordTokenizer(TempFolder temp)
    {
        var vocab = string.Join(", ", Enumerable.Range(2, 94).Select(i => $"\"k{i}k\": {i}"));
        var path = temp.File("words-tokenizer.json");
        File.WriteAllText(path, "{ \"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [], \"normalizer\": null, "
            + "\"pre_tokenizer\": { \"type\": \"Whitespace\" }, \"post_processor\": null, \"decoder\": null, "
            + $"\"model\": {{ \"type\": \"WordLevel\", \"vocab\": {{ \"<unk>\": 0, \"<s>\": 1, {vocab} }}, \"unk_token\": \"<unk>\" }} }}");
        return path;
    }

    [Fact]
    public void SamplingWithASeedRepeatsAndStopEndsGeneration()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", WordTokenizer(temp)));
        string[] Ids(string file)
        {
            using var doc = TempFolder.ReadJson(file);
            return doc.RootElement.GetProperty("generated").EnumerateArray().Select(g => g.GetProperty("id").GetInt64() + "=" + g.GetProperty("piece").GetString()).ToArray();
        }
        var sampling = new[] { "--temperature", "1.5", "--top-k", "30", "--top-p", "0.9", "--seed", "11", "--max-new-tokens", "6" };
        var a = CliRun.Plain(new[] { "generate", folder, "--text", "k5k k17k k3k", "--json", temp.File("a.json") }.Concat(sampling).ToArray());
        var b = CliRun.Plain(new[] { "generate", folder, "--text", "k5k k17k k3k", "--json", temp.File("b.json") }.Concat(sampling).ToArray());
        Assert.True(a.ExitCode == 0 && b.ExitCode == 0, a + "\n" + b);
        Assert.Equal(Ids(temp.File("a.json")), Ids(temp.File("b.json")));

        // Greedy, then again with the second generated token's text as a stop string: generation ends after it.
        Assert.True(CliRun.Plain("generate", folder, "--text", "k5k k17k k3k", "--max-new-tokens", "5", "--json", temp.File("free.json")).ExitCode == 0);
        var free = Ids(temp.File("free.json"));
        var stop = free[1].Split('=', 2)[1].Trim();
        int visible = Array.FindIndex(free, id => id.Split('=', 2)[1].Contains(stop, StringComparison.Ordinal));
        var stopped = CliRun.Plain("generate", folder, "--text", "k5k k17k k3k", "--max-new-tokens", "5", "--stop", "no such text", "--stop", stop, "--json", temp.File("stop.json"));
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        Assert.Contains("(stopped: stop)", stopped.Stdout);
        var kept = Ids(temp.File("stop.json"));
        Assert.InRange(kept.Length, 1, visible + 1);
        Assert.Equal(free.Take(kept.Length), kept);
    }

    [Theory]
    [InlineData("--top-k 5", "--top-k only applies to sampling: give --temperature above 0")]
    [InlineData("--seed 3", "--seed only applies to sampling")]
    [InlineData("--temperature -1", "--temperature '-1' is not a number >= 0")]
    [InlineData("--temperature 1 --top-p 1.5", "--top-p '1.5' is not a number in (0, 1]")]
    [InlineData("--max-new-tokens 0", "--max-new-tokens '0' is not an integer >= 1")]
    [InlineData("--stop x", "--stop needs the model's tokenizer")]
    [InlineData("--stop ", "--stop is empty")]
    [InlineData("--max-new-tokens 125", "a prompt of 6 tokens plus 125 new tokens needs 130 positions, more than the model's 128 (max_position_embeddings); use a shorter prompt or --max-new-tokens 123")]
    public void WrongArgumentsExitWith2(string options, string message)
    {
        var run = CliRun.Plain(new[] { "generate", GoldenData.Folder("llama"), "--ids", Prompt }.Concat(options.Split(' ')).ToArray());
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains(message, run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void AClassifierIsRefused()
    {
        var run = CliRun.Plain("generate", GoldenData.Folder("bert"), "--ids", "5,17,3");
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("is a BERT classifier; generate needs a causal LM", run.Stderr);
    }
}
