using System.Linq;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

public class WeightAssignerTests
{
    [Fact]
    public void AssignCopiesIntoParametersAndConvertsTheType()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var checkpoint = CheckpointFolder.Open(folder.Path);
        using var layer = nn.Linear(4, 3);
        layer.to(ScalarType.Float64);

        var assigner = new WeightAssigner(checkpoint, ScalarType.Float64);
        assigner.Assign("layer.weight", layer.weight!);
        assigner.Assign("layer.bias", layer.bias!);

        Assert.Equal(ScalarType.Float64, layer.weight!.dtype);
        Assert.True(layer.weight.requires_grad);   // copied under no_grad, still a trainable parameter
        Assert.Equal(Enumerable.Range(100, 12).Select(v => (double)v), layer.weight.data<double>().ToArray());
        Assert.Equal(new[] { 200.0, 201.0, 202.0 }, layer.bias!.data<double>().ToArray());
        Assert.Equal(new[] { "layer.bias", "layer.weight" }, assigner.Used.OrderBy(n => n));
    }

    [Fact]
    public void MissingTensorNamesTheFileAndTheTensor()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var assigner = new WeightAssigner(CheckpointFolder.Open(folder.Path), ScalarType.Float32);
        using var target = torch.zeros(3, 4);

        var error = Assert.Throws<CheckpointException>(() => assigner.Assign("model.layers.0.mlp.up_proj.weight", target));
        Assert.Contains("model.safetensors has no tensor 'model.layers.0.mlp.up_proj.weight'", error.Message);
        Assert.Equal(folder.File("model.safetensors"), error.FilePath);
    }

    [Fact]
    public void WrongShapeNamesTheTensorTheFileAndBothShapes()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var assigner = new WeightAssigner(CheckpointFolder.Open(folder.Path), ScalarType.Float32);
        using var target = torch.zeros(4, 3);

        var error = Assert.Throws<CheckpointException>(() => assigner.Assign("layer.weight", target));
        Assert.Contains($"Tensor 'layer.weight' in {folder.File("model.safetensors")} has shape [3, 4]; the model expects [4, 3]", error.Message);
        Assert.Empty(assigner.Used);
        Assert.All(target.data<float>().ToArray(), v => Assert.Equal(0f, v));   // nothing was copied
    }

    [Fact]
    public void ExtraTensorsAreAllNamedByEnsureAllUsed()
    {
        using var folder = new TempFolder();
        Fixtures.WriteTinyFolder(folder.Path);
        var assigner = new WeightAssigner(CheckpointFolder.Open(folder.Path), ScalarType.Float32);
        using var weight = torch.zeros(3, 4);
        assigner.Assign("layer.weight", weight);

        var error = Assert.Throws<CheckpointException>(() => assigner.EnsureAllUsed());
        Assert.Contains(folder.File("model.safetensors"), error.Message);
        Assert.Contains("3 tensor(s)", error.Message);
        Assert.Contains("'embed.weight'", error.Message);
        Assert.Contains("'layer.bias'", error.Message);
        Assert.Contains("'norm.weight'", error.Message);
        Assert.DoesNotContain("'layer.weight'", error.Message);
    }

    [Fact]
    public void EnsureAllUsedAcceptsMarkedAndIgnoredTensors()
    {
        using var folder = new TempFolder();
        System.IO.File.WriteAllText(folder.File("config.json"), Fixtures.TinyConfig);
        using (var tensors = new TensorSet
        {
            ["model.layers.1.weight"] = torch.zeros(2),
            ["model.layers.10.weight"] = torch.zeros(2),
            ["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.zeros(2),
            ["lm_head.weight"] = torch.zeros(2),
        })
            SafetensorsFile.Write(folder.File("model.safetensors"), tensors);
        var assigner = new WeightAssigner(CheckpointFolder.Open(folder.Path), ScalarType.Float32);
        assigner.MarkUsed("lm_head.weight");

        // "model.layers.1" is a whole-component prefix: it must not swallow model.layers.10.
        var error = Assert.Throws<CheckpointException>(() => assigner.EnsureAllUsed("rotary_emb.inv_freq", "model.layers.1"));
        Assert.Contains("1 tensor(s)", error.Message);
        Assert.Contains("'model.layers.10.weight'", error.Message);

        assigner.EnsureAllUsed("rotary_emb.inv_freq", "model.layers.1", "model.layers.10.weight");
        assigner.EnsureAllUsed("rotary_emb.inv_freq", "model.layers.");
    }
}
