using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>The golden LLaMA folder was written by Hugging Face transformers, not by our writer.</summary>
public class GoldenLlamaCheckpointTests
{
    private const string Embed = "model.embed_tokens.weight";

    [Fact]
    public void OpensConfigAndTensorNames()
    {
        var checkpoint = CheckpointFolder.Open(GoldenData.Folder("llama"));
        Assert.Equal("llama", checkpoint.ModelType);
        Assert.Equal(64, checkpoint.GetInt("hidden_size"));
        Assert.Equal(2, checkpoint.GetInt("num_hidden_layers"));
        Assert.Equal(1e-6, checkpoint.GetDouble("rms_norm_eps"));
        Assert.Equal(10000.0, checkpoint.GetDouble("rope_parameters.rope_theta"));
        Assert.Null(checkpoint.GetOptionalInt("pad_token_id"));
        Assert.Equal(new long[] { 96, 64 }, checkpoint.Shape(Embed));
        Assert.Equal(ScalarType.Float32, checkpoint.StoredType(Embed));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", checkpoint.TensorNames);
        Assert.Contains("lm_head.weight", checkpoint.TensorNames);
    }

    [Fact]
    public void EmbeddingEqualsAnIndependentRead()
    {
        var checkpoint = CheckpointFolder.Open(GoldenData.Folder("llama"));
        using var embed = checkpoint.Load(Embed);
        Assert.Equal(new long[] { 96, 64 }, embed.shape);
        Assert.Equal(ScalarType.Float32, embed.dtype);
        float[] loaded = embed.data<float>().ToArray();

        float[] expected = ReadIndependently(Path.Combine(GoldenData.Folder("llama"), "model.safetensors"), Embed);
        Assert.Equal(expected.Length, loaded.Length);
        Assert.Equal(expected[0], loaded[0]);
        Assert.Equal(expected[64 + 5], loaded[64 + 5]);   // [1, 5]
        Assert.Equal(expected[^1], loaded[^1]);
        Assert.Equal(expected.Sum(v => (double)v), loaded.Sum(v => (double)v));
        using var sum = embed.sum(type: ScalarType.Float64);
        Assert.Equal(expected.Sum(v => (double)v), sum.ToDouble(), 9);
        Assert.Equal(expected, loaded);
        Assert.Contains(loaded, v => v != 0f);   // not an all-zero read
    }

    /// <summary>A second reader that shares no code with SafetensorsFile: whole file, manual offsets, per-float decode.</summary>
    private static float[] ReadIndependently(string path, string name)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var entry = header.RootElement.GetProperty(name);
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        int begin = entry.GetProperty("data_offsets")[0].GetInt32(), end = entry.GetProperty("data_offsets")[1].GetInt32();
        int start = 8 + headerLength + begin;
        return Enumerable.Range(0, (end - begin) / 4)
            .Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(start + 4 * i, 4)))
            .ToArray();
    }
}
