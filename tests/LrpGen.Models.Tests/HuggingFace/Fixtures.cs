using System.IO;
using System.Linq;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>Small checkpoint folders written by the code under test's own writer.</summary>
internal static class Fixtures
{
    public const string TinyConfig = """
        {
          "model_type": "tiny",
          "hidden_size": 4,
          "rms_norm_eps": 1e-06,
          "rope_theta": 10000,
          "tie_word_embeddings": false,
          "pad_token_id": null,
          "rope_parameters": { "rope_theta": 500000.0, "rope_type": "default" }
        }
        """;

    /// <summary>A float32 tensor 0, 1, 2, ... (plus <paramref name="start"/>) of the given shape.</summary>
    public static Tensor Counting(float start, params long[] shape)
    {
        var values = Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(i => start + i).ToArray();
        return torch.tensor(values, shape);
    }

    /// <summary>The tensors of the tiny model: an embedding, one linear layer, a norm.</summary>
    public static TensorSet TinyTensors() => new()
    {
        ["embed.weight"] = Counting(0, 5, 4),
        ["layer.weight"] = Counting(100, 3, 4),
        ["layer.bias"] = Counting(200, 3),
        ["norm.weight"] = Counting(300, 4),
    };

    /// <summary>config.json plus model.safetensors with <see cref="TinyTensors"/>.</summary>
    public static void WriteTinyFolder(string folder)
    {
        File.WriteAllText(Path.Combine(folder, CheckpointFolder.ConfigFileName), TinyConfig);
        using var tensors = TinyTensors();
        SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), tensors);
    }

    /// <summary>A safetensors file from a hand-written header and data, for headers our writer would never produce.</summary>
    public static void WriteRaw(string path, string headerJson, byte[] data)
    {
        var header = System.Text.Encoding.UTF8.GetBytes(headerJson);
        using var file = File.Create(path);
        var length = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        file.Write(header);
        file.Write(data);
    }
}
