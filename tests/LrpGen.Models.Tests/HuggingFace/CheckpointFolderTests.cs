using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

public class CheckpointFolderTests
{
    [Fact]
    public void SingleFileFolderExposesNamesShapesTypesAndValues()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);

        var checkpoint = CheckpointFolder.Open(folder.Path);
        Assert.Equal("tiny", checkpoint.ModelType);
        Assert.Equal(folder.File("model.safetensors"), checkpoint.WeightsPath);
        Assert.Equal(new[] { "embed.weight", "layer.bias", "layer.weight", "norm.weight" }, checkpoint.TensorNames.OrderBy(n => n));
        Assert.True(checkpoint.Contains("layer.bias"));
        Assert.False(checkpoint.Contains("layer.bia"));
        Assert.Equal(new long[] { 3, 4 }, checkpoint.Shape("layer.weight"));
        Assert.Equal(ScalarType.Float32, checkpoint.StoredType("layer.weight"));

        using var bias = checkpoint.Load("layer.bias");
        Assert.Equal(new[] { 200f, 201f, 202f }, bias.data<float>().ToArray());
        using var half = checkpoint.Load("layer.bias", ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, half.dtype);
        using var back = half.to_type(ScalarType.Float32);
        Assert.Equal(new[] { 200f, 201f, 202f }, back.data<float>().ToArray());   // exact in bf16's 8 bits
    }

    [Fact]
    public void ShardedFolderReadsEveryTensorFromItsShard()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("config.json"), Fixtures.TinyConfig);
        using var all = Fixtures.TinyTensors();
        using (var first = new TensorSet { ["embed.weight"] = all["embed.weight"].clone(), ["layer.weight"] = all["layer.weight"].clone() })
            SafetensorsFile.Write(folder.File("model-00001-of-00002.safetensors"), first);
        using (var second = new TensorSet { ["layer.bias"] = all["layer.bias"].clone(), ["norm.weight"] = all["norm.weight"].clone() })
            SafetensorsFile.Write(folder.File("model-00002-of-00002.safetensors"), second);
        File.WriteAllText(folder.File("model.safetensors.index.json"), """
            {
              "metadata": { "total_size": 160 },
              "weight_map": {
                "embed.weight": "model-00001-of-00002.safetensors",
                "layer.weight": "model-00001-of-00002.safetensors",
                "layer.bias": "model-00002-of-00002.safetensors",
                "norm.weight": "model-00002-of-00002.safetensors"
              }
            }
            """);

        var checkpoint = CheckpointFolder.Open(folder.Path);
        Assert.Equal(folder.File("model.safetensors.index.json"), checkpoint.WeightsPath);
        Assert.Equal(all.Keys.OrderBy(n => n), checkpoint.TensorNames.OrderBy(n => n));
        Assert.Equal(folder.File("model-00002-of-00002.safetensors"), checkpoint.FileOf("norm.weight"));
        foreach (var (name, expected) in all)
        {
            using var loaded = checkpoint.Load(name);
            Assert.Equal(expected.shape, loaded.shape);
            Assert.Equal(expected.data<float>().ToArray(), loaded.data<float>().ToArray());
        }
    }

    [Fact]
    public void IndexPointingAtAMissingShardNamesTheShardAndTheTensor()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("config.json"), Fixtures.TinyConfig);
        using (var tensors = new TensorSet { ["a"] = Fixtures.Counting(0, 2) })
            SafetensorsFile.Write(folder.File("model-00001-of-00002.safetensors"), tensors);
        File.WriteAllText(folder.File("model.safetensors.index.json"),
            """{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");

        var error = Assert.Throws<CheckpointException>(() => CheckpointFolder.Open(folder.Path));
        Assert.Contains("model.safetensors.index.json", error.Message);
        Assert.Contains("model-00002-of-00002.safetensors", error.Message);
        Assert.Contains("'b'", error.Message);
        Assert.Equal(folder.File("model-00002-of-00002.safetensors"), error.FilePath);
    }

    [Fact]
    public void MissingFolderNamesTheFolder()
    {
        using var folder = new TempFolder();
        string absent = folder.File("no-such-model");

        var error = Assert.Throws<CheckpointException>(() => CheckpointFolder.Open(absent));
        Assert.Contains(absent, error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void MissingConfigNamesConfigJsonAndTheFolder()
    {
        using var folder = new TempFolder();
        using (var tensors = Fixtures.TinyTensors()) SafetensorsFile.Write(folder.File("model.safetensors"), tensors);

        var error = Assert.Throws<CheckpointException>(() => CheckpointFolder.Open(folder.Path));
        Assert.Contains("config.json", error.Message);
        Assert.Contains(folder.Path, error.Message);
        Assert.Equal(folder.File("config.json"), error.FilePath);
    }

    [Fact]
    public void ConfigWithoutModelTypeNamesTheKey()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        File.WriteAllText(folder.File("config.json"), """{"hidden_size": 4}""");

        var error = Assert.Throws<CheckpointException>(() => CheckpointFolder.Open(folder.Path));
        Assert.Contains(folder.File("config.json"), error.Message);
        Assert.Contains("'model_type'", error.Message);
    }

    [Fact]
    public void ConfigThatIsNotJsonNamesTheFile()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        File.WriteAllText(folder.File("config.json"), """{"model_type": "tiny",""");

        var error = Assert.Throws<CheckpointException>(() => CheckpointFolder.Open(folder.Path));
        Assert.Contains(folder.File("config.json"), error.Message);
        Assert.Contains("not valid JSON", error.Message);
    }

    [Fact]
    public void FolderWithoutWeightsNamesBothExpectedFiles()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("config.json"), Fixtures.TinyConfig);

        var error = Assert.Throws<CheckpointException>(() => CheckpointFolder.Open(folder.Path));
        Assert.Contains(folder.Path, error.Message);
        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("model.safetensors.index.json", error.Message);
    }

    [Fact]
    public void ConfigHelpersReadTypedValuesAndNestedKeys()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var checkpoint = CheckpointFolder.Open(folder.Path);

        Assert.Equal(4, checkpoint.GetInt("hidden_size"));
        Assert.Equal(1e-6, checkpoint.GetDouble("rms_norm_eps"));
        Assert.Equal(10000.0, checkpoint.GetDouble("rope_theta"));   // written as an integer
        Assert.Equal(500000.0, checkpoint.GetDouble("rope_parameters.rope_theta"));
        Assert.False(checkpoint.GetBool("tie_word_embeddings", true));
        Assert.True(checkpoint.GetBool("attention_bias_absent", true));
        Assert.Null(checkpoint.GetOptionalInt("pad_token_id"));         // JSON null
        Assert.Null(checkpoint.GetOptionalDouble("absent"));
        Assert.Equal(4, checkpoint.GetOptionalInt("hidden_size"));
        Assert.Equal(JsonValueKind.Object, checkpoint.Get("rope_parameters")!.Value.ValueKind);
        Assert.Null(checkpoint.Get("rope_parameters.absent"));
        Assert.Equal("tiny", checkpoint.Config.GetProperty("model_type").GetString());
    }

    [Fact]
    public void MissingRequiredConfigKeyNamesConfigJsonAndTheKey()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var checkpoint = CheckpointFolder.Open(folder.Path);

        var error = Assert.Throws<CheckpointException>(() => checkpoint.GetInt("num_hidden_layers"));
        Assert.Contains(folder.File("config.json"), error.Message);
        Assert.Contains("'num_hidden_layers'", error.Message);
        Assert.Throws<CheckpointException>(() => checkpoint.GetDouble("pad_token_id"));   // null is absent
    }

    [Fact]
    public void ConfigValueOfTheWrongKindNamesConfigJsonAndTheKey()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var checkpoint = CheckpointFolder.Open(folder.Path);

        var error = Assert.Throws<CheckpointException>(() => checkpoint.GetInt("rms_norm_eps"));
        Assert.Contains(folder.File("config.json"), error.Message);
        Assert.Contains("'rms_norm_eps'", error.Message);
        Assert.Contains("integer", error.Message);
        var boolError = Assert.Throws<CheckpointException>(() => checkpoint.GetBool("model_type", false));
        Assert.Contains("'model_type'", boolError.Message);
        Assert.Throws<CheckpointException>(() => checkpoint.GetOptionalDouble("rope_parameters.rope_type"));
    }
}
