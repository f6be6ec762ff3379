using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.Gguf;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary><c>lrpgen explain model.gguf</c> and <c>ollama:name[:tag]</c>: the golden LLaMA written as GGUF explains as
/// its folder does, --text is tokenized by the file's own vocabulary through llama.cpp, and a broken file, an
/// unknown architecture, an unsupported tensor type or a missing Ollama model are one-line errors with exit 1.</summary>
public class GgufExplainTests
{
    /// <summary>A SentencePiece vocabulary of the golden LLaMA's 96 tokens: control tokens, two words with the prefixes
    /// SentencePiece merges through, letters, filler.</summary>
    private static readonly string[] Pieces = new[] { "<unk>", "<s>", "</s>", "▁the", "▁cat", "▁t", "▁th", "▁c", "▁ca", "▁", "t", "h", "e", "c", "a" }
        .Concat(Enumerable.Range(0, 81).Select(i => $"▁w{i}")).ToArray();

    private static IEnumerable<KeyValuePair<string, GgufValue>> Vocabulary() => new KeyValuePair<string, GgufValue>[]
    {
        new("tokenizer.ggml.model", GgufValue.String("llama")),
        new("tokenizer.ggml.tokens", GgufValue.Strings(Pieces)),
        new("tokenizer.ggml.scores", GgufValue.Float32s(Pieces.Select((p, i) => p is "▁the" or "▁cat" ? -1f : p.Length > 1 ? -10f - i * 1e-3f : -100f - i * 1e-3f))),
        new("tokenizer.ggml.token_type", GgufValue.Int32s(Pieces.Select((p, i) => i == 0 ? 2 : i < 3 ? 3 : 1))),
        new("tokenizer.ggml.bos_token_id", GgufValue.UInt32(1)),
        new("tokenizer.ggml.eos_token_id", GgufValue.UInt32(2)),
        new("tokenizer.ggml.unknown_token_id", GgufValue.UInt32(0)),
        new("tokenizer.ggml.add_bos_token", GgufValue.Bool(true)),
    };

    private static string GoldenGguf(TempFolder temp)
    {
        string path = temp.File("golden-llama.gguf");
        GgufConversion.FromHuggingFace(GoldenData.Folder("llama"), path, extraMetadata: Vocabulary());
        return path;
    }

    private static double[] Relevance(string json)
    {
        using var doc = TempFolder.ReadJson(json);
        return doc.RootElement.GetProperty("relevance").EnumerateArray().Select(e => e.GetDouble()).ToArray();
    }

    [Fact]
    public void GgufExplainsAsItsFolder()
    {
        using var temp = new TempFolder();
        string gguf = GoldenGguf(temp);
        var fromGguf = CliRun.Plain("explain", gguf, "--ids", "1,5,9,17,33", "--json", temp.File("gguf.json"));
        Assert.True(fromGguf.ExitCode == 0, fromGguf.ToString());
        var fromFolder = CliRun.Plain("explain", GoldenData.Folder("llama"), "--ids", "1,5,9,17,33", "--json", temp.File("folder.json"));
        Assert.True(fromFolder.ExitCode == 0, fromFolder.ToString());
        var a = Relevance(temp.File("gguf.json"));
        var b = Relevance(temp.File("folder.json"));
        double scale = b.Max(Math.Abs);
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-6 * scale, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public void TextIsTokenizedByTheFilesVocabulary()
    {
        using var temp = new TempFolder();
        string gguf = GoldenGguf(temp);
        var run = CliRun.Plain("explain", gguf, "--text", "the cat", "--json", temp.File("out.json"));
        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(temp.File("out.json"));
        Assert.Equal(new long[] { 1, 3, 4 }, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(new[] { "<s>", " the", " cat" }, doc.RootElement.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void OllamaModelsResolveThroughTheirManifest()
    {
        using var temp = new TempFolder();
        string gguf = GoldenGguf(temp);
        string models = temp.File("models");
        string hex = new string('c', 64);
        Directory.CreateDirectory(Path.Combine(models, "blobs"));
        File.Copy(gguf, Path.Combine(models, "blobs", "sha256-" + hex));
        string manifest = Path.Combine(models, "manifests", "registry.ollama.ai", "library", "golden", "latest");
        Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
        File.WriteAllText(manifest, $$"""{"layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:{{hex}}"}]}""");
        var old = Environment.GetEnvironmentVariable("OLLAMA_MODELS");
        try
        {
            Environment.SetEnvironmentVariable("OLLAMA_MODELS", models);
            var run = CliRun.Plain("explain", "ollama:golden", "--text", "the cat");
            Assert.True(run.ExitCode == 0, run.ToString());
            var missing = CliRun.Plain("explain", "ollama:llama3.2:1b", "--text", "the cat");
            AssertOneLineError(missing, "Ollama model 'llama3.2:1b' is not in");
        }
        finally
        {
            Environment.SetEnvironmentVariable("OLLAMA_MODELS", old);
        }
    }

    private static void AssertOneLineError(CliRun run, string expected)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var error = Assert.Single(lines, l => l.StartsWith("lrpgen explain: error: ", StringComparison.Ordinal));
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void BrokenFilesAreOneLineErrors()
    {
        using var temp = new TempFolder();
        string gguf = GoldenGguf(temp);
        var bytes = File.ReadAllBytes(gguf);

        string truncated = temp.File("truncated.gguf");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        AssertOneLineError(CliRun.Plain("explain", truncated, "--ids", "1,5"), "is truncated");

        string mamba = temp.File("mamba.gguf");
        var renamed = (byte[])bytes.Clone();
        int at = renamed.AsSpan().IndexOf("llama"u8);                  // general.architecture's value is the first "llama"
        "mamba"u8.CopyTo(renamed.AsSpan(at));
        File.WriteAllBytes(mamba, renamed);
        AssertOneLineError(CliRun.Plain("explain", mamba, "--ids", "1,5"), "GGUF architecture 'mamba' is not supported");

        string unsupported = temp.File("unsupported.gguf");
        var retyped = (byte[])bytes.Clone();
        var name = "blk.1.ffn_up.weight"u8;
        BitConverter.GetBytes(16u).CopyTo(retyped, retyped.AsSpan().IndexOf(name) + name.Length + 4 + 16);   // IQ2_XXS
        File.WriteAllBytes(unsupported, retyped);
        AssertOneLineError(CliRun.Plain("explain", unsupported, "--text", "the cat"), "tensor 'blk.1.ffn_up.weight' has type IQ2_XXS, which is not supported");
    }
}
