using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.Gguf;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>The reader on files of our writer (values, shapes, alignment, half types) and on broken files: each
/// problem is one line naming the file and what is wrong.</summary>
public class GgufFileTests
{
    private static readonly KeyValuePair<string, GgufValue>[] Metadata =
    {
        new("general.architecture", GgufValue.String("llama")),
        new("general.alignment", GgufValue.UInt32(64)),
        new("test.float", GgufValue.Float32(0.25f)),
        new("test.names", GgufValue.Strings(new[] { "a", "ü", "" })),
    };

    private static void WriteSample(string path)
    {
        using var a = torch.arange(12, ScalarType.Float32).reshape(3, 4);
        using var b = torch.arange(5, ScalarType.Float32).to(ScalarType.Float16);
        using var c = torch.arange(6, ScalarType.Float32).reshape(1, 2, 3).to(ScalarType.BFloat16);
        GgufWriter.Write(path, Metadata, new KeyValuePair<string, Tensor>[] { new("a", a), new("b", b), new("c", c) });
    }

    [Fact]
    public void ReadsWhatTheWriterWrote()
    {
        using var temp = new TempFolder();
        string path = temp.File("sample.gguf");
        WriteSample(path);
        var file = GgufFile.Open(path);
        Assert.Equal(3u, file.Version);
        Assert.Equal(64, file.Alignment);
        Assert.Equal(0, file.DataStart % 64);
        Assert.Equal("llama", file.GetString("general.architecture"));
        Assert.Equal(0.25, file.Metadata["test.float"].AsDouble());
        Assert.Equal(new object[] { "a", "ü", "" }, file.Metadata["test.names"].Elements);
        Assert.Equal(new long[] { 4, 3 }, file.Tensor("a").Dims);                 // ggml order: innermost first
        Assert.Equal(new[] { GgmlType.F32, GgmlType.F16, GgmlType.BF16 }, file.Tensors.Select(t => t.Type));
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 64));
        using var a = file.Load("a", ScalarType.Float32);
        Assert.Equal(new long[] { 3, 4 }, a.shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), a.data<float>().ToArray());
        using var b = file.Load("b", ScalarType.Float32);
        Assert.Equal(new float[] { 0, 1, 2, 3, 4 }, b.data<float>().ToArray());
        using var c = file.Load("c", ScalarType.Float64);
        Assert.Equal(new long[] { 1, 2, 3 }, c.shape);
        Assert.Equal(new double[] { 0, 1, 2, 3, 4, 5 }, c.data<double>().ToArray());
    }

    [Fact]
    public void RopeRowsRoundTrip()
    {
        using var w = torch.randn(2 * 8, 3);
        using var gguf = RopeRows.ToGguf(w, 2);
        // Head 0's rows 0..3 (first half) and 4..7 (second half) become pairs (0, 4), (1, 5), ...
        Assert.True(gguf[1].allclose(w[4], 0, 0) && gguf[2].allclose(w[1], 0, 0) && gguf[9].allclose(w[12], 0, 0));
        using var back = RopeRows.ToHuggingFace(gguf, 2);
        Assert.True(back.allclose(w, 0, 0));
    }

    private static string ErrorOf(Action action)
    {
        var e = Assert.Throws<CheckpointException>(action);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void TruncatedFilesAreNamed()
    {
        using var temp = new TempFolder();
        string path = temp.File("sample.gguf");
        WriteSample(path);
        var bytes = File.ReadAllBytes(path);
        foreach (int length in new[] { 0, 10, 40, 200, bytes.Length - 60 })
        {
            string cut = temp.File($"cut{length}.gguf");
            File.WriteAllBytes(cut, bytes[..length]);
            var message = ErrorOf(() => GgufFile.Open(cut));
            Assert.Contains(cut, message);
            Assert.Contains("truncated", message);
        }
    }

    [Fact]
    public void CorruptedHeadersAreNamed()
    {
        using var temp = new TempFolder();
        string path = temp.File("sample.gguf");
        WriteSample(path);
        var bytes = File.ReadAllBytes(path);

        var notGguf = (byte[])bytes.Clone();
        notGguf[0] = (byte)'X';
        File.WriteAllBytes(path, notGguf);
        Assert.Contains("is not a GGUF file", ErrorOf(() => GgufFile.Open(path)));

        var version1 = (byte[])bytes.Clone();
        version1[4] = 1;
        File.WriteAllBytes(path, version1);
        Assert.Contains("GGUF version 1", ErrorOf(() => GgufFile.Open(path)));

        var hugeCount = (byte[])bytes.Clone();
        hugeCount[8 + 7] = 0x7F;                                   // tensor count ~ 9e18
        File.WriteAllBytes(path, hugeCount);
        Assert.Contains("the tensor count", ErrorOf(() => GgufFile.Open(path)));

        var badValueType = (byte[])bytes.Clone();
        int firstType = 24 + 8 + "general.architecture".Length;   // after the header and the first key
        badValueType[firstType] = 99;
        File.WriteAllBytes(path, badValueType);
        Assert.Contains("value type 99", ErrorOf(() => GgufFile.Open(path)));
    }

    /// <summary>A tiny LLaMA as GGUF, with one change to the written metadata or tensors.</summary>
    private static string TinyGguf(TempFolder temp, Func<List<KeyValuePair<string, GgufValue>>, List<KeyValuePair<string, GgufValue>>>? metadata = null)
    {
        string folder = temp.File("hf");
        TinyLlama.Write(folder, seed: 3);
        string gguf = temp.File("tiny.gguf");
        GgufConversion.FromHuggingFace(folder, gguf);
        if (metadata is null) return gguf;
        var file = GgufFile.Open(gguf);
        string edited = temp.File("edited.gguf");
        var tensors = file.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Load(t.Name, ScalarType.Float32))).ToList();
        GgufWriter.Write(edited, metadata(file.Metadata.ToList()), tensors);
        foreach (var t in tensors) t.Value.Dispose();
        return edited;
    }

    [Fact]
    public void UnknownArchitectureIsNamed()
    {
        using var temp = new TempFolder();
        string gguf = TinyGguf(temp, m => m.Select(p => p.Key == "general.architecture" ? new(p.Key, GgufValue.String("mamba")) : p).ToList());
        var message = ErrorOf(() => CausalLm.Load(gguf));
        Assert.Contains("GGUF architecture 'mamba' is not supported (supported: llama, qwen2, qwen3, qwen3moe", message);
    }

    [Fact]
    public void MissingMetadataIsNamed()
    {
        using var temp = new TempFolder();
        string gguf = TinyGguf(temp, m => m.Where(p => p.Key != "llama.block_count").ToList());
        Assert.Contains("has no metadata 'llama.block_count' (num_hidden_layers)", ErrorOf(() => CausalLm.Load(gguf)));
    }

    [Fact]
    public void UnsupportedTensorTypeNamesTensorAndType()
    {
        using var temp = new TempFolder();
        string gguf = TinyGguf(temp);
        var bytes = File.ReadAllBytes(gguf);
        // The tensor info of blk.0.attn_k.weight: name, 2 dims (u32 count + 2 x u64), then its type (u32).
        var name = System.Text.Encoding.UTF8.GetBytes("blk.0.attn_k.weight");
        int at = bytes.AsSpan().IndexOf(name) + name.Length + 4 + 16;
        BitConverter.GetBytes((uint)GgmlType.IQ2_XXS).CopyTo(bytes, at);
        File.WriteAllBytes(gguf, bytes);
        Assert.Contains("tensor 'blk.0.attn_k.weight' has type IQ2_XXS, which is not supported (supported: F32, F16, BF16, Q4_0",
            ErrorOf(() => CausalLm.Load(gguf)));
    }

    [Fact]
    public void TensorWithoutPlaceIsNamed()
    {
        using var temp = new TempFolder();
        string gguf = TinyGguf(temp);
        var file = GgufFile.Open(gguf);
        var tensors = file.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Load(t.Name, ScalarType.Float32))).ToList();
        tensors.Add(new("blk.0.ssm_conv1d.weight", torch.zeros(4)));
        string edited = temp.File("extra.gguf");
        GgufWriter.Write(edited, file.Metadata, tensors);
        Assert.Contains("tensor 'blk.0.ssm_conv1d.weight' has no place in a llama model", ErrorOf(() => CausalLm.Load(edited)));
    }

    [Fact]
    public void OllamaReferencesResolveThroughTheManifest()
    {
        using var temp = new TempFolder();
        string gguf = TinyGguf(temp);
        string models = temp.File("models");
        string digest = "sha256:" + new string('a', 64);
        Directory.CreateDirectory(Path.Combine(models, "blobs"));
        File.Copy(gguf, Path.Combine(models, "blobs", "sha256-" + new string('a', 64)));
        string manifest = Path.Combine(models, "manifests", "registry.ollama.ai", "library", "tiny", "q8");
        Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
        File.WriteAllText(manifest, $$"""
            {"schemaVersion": 2, "layers": [
              {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:{{new string('b', 64)}}"},
              {"mediaType": "application/vnd.ollama.image.model", "digest": "{{digest}}"}]}
            """);
        Assert.Equal(Path.Combine(models, "blobs", "sha256-" + new string('a', 64)), OllamaModels.Resolve("tiny:q8", models));
        Assert.Equal(("registry.ollama.ai", "library", "llama3.2", "latest"), OllamaModels.Parse("llama3.2"));
        Assert.Equal(("registry.ollama.ai", "me", "tiny", "1b"), OllamaModels.Parse("me/tiny:1b"));
        Assert.Equal(("host:5000", "ns", "m", "latest"), OllamaModels.Parse("host:5000/ns/m"));

        var missing = ErrorOf(() => OllamaModels.Resolve("llama3.2", models));
        Assert.Contains("Ollama model 'llama3.2:latest' is not in", missing);
        Assert.Contains("ollama pull llama3.2:latest", missing);

        var old = Environment.GetEnvironmentVariable("OLLAMA_MODELS");
        try
        {
            Environment.SetEnvironmentVariable("OLLAMA_MODELS", models);
            using var lm = CausalLm.Load("ollama:tiny:q8");
            Assert.Equal(TinyLlama.Layers, lm.Config.Layers);
        }
        finally
        {
            Environment.SetEnvironmentVariable("OLLAMA_MODELS", old);
        }
    }
}
