using System;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders;

/// <summary>LlamaCheckpoint writes a folder that CausalLm.Load reads back as the same model: every parameter equal
/// to the one written (the truth is the module in memory), every size of the config the same.</summary>
public class LlamaCheckpointTests
{
    private static readonly DecoderConfig Config = new()
    {
        ModelType = "llama",
        VocabSize = 20,
        HiddenSize = 16,
        IntermediateSize = 24,
        Layers = 2,
        Heads = 4,
        KvHeads = 2,
        HeadDim = 4,
        RmsNormEps = 1e-5,
        RopeTheta = 5000,
        MaxPositions = 128,
    };

    [Fact]
    public void SavedFolderLoadsBackWithEveryParameterAndSize()
    {
        using var folder = new TempFolder();
        torch.manual_seed(11);
        using var model = new LlamaForCausalLM(Config);
        using (torch.no_grad())
            foreach (var (_, p) in model.named_parameters()) nn.init.normal_(p, 0, 0.5);

        LlamaCheckpoint.Save(model, Config, folder.Path);
        using var loaded = CausalLm.Load(folder.Path);

        var written = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var read = loaded.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(written.Keys.OrderBy(k => k, StringComparer.Ordinal), read.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (name, parameter) in written)
        {
            Assert.Equal(parameter.shape, read[name].shape);
            Assert.True(parameter.eq(read[name]).all().item<bool>(), $"{name} differs after the round trip");
        }

        var c = loaded.Config;
        Assert.Equal(
            (Config.ModelType, Config.VocabSize, Config.HiddenSize, Config.IntermediateSize, Config.Layers, Config.Heads, Config.KvHeads, Config.HeadDim, Config.MaxPositions),
            (c.ModelType, c.VocabSize, c.HiddenSize, c.IntermediateSize, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.MaxPositions));
        Assert.Equal((Config.RmsNormEps, Config.RopeTheta, Config.AttentionBias, Config.MlpBias, false), (c.RmsNormEps, c.RopeTheta, c.AttentionBias, c.MlpBias, c.TieWordEmbeddings));
    }

    [Fact]
    public void ConfigOfAnotherFamilyIsRefusedNamingModelType()
    {
        using var folder = new TempFolder();
        using var model = new LlamaForCausalLM(Config);
        var e = Assert.Throws<ArgumentException>(() => LlamaCheckpoint.Save(model, Config with { ModelType = "qwen3_moe" }, folder.Path));
        Assert.Contains("model_type must be llama, got 'qwen3_moe'", e.Message);
        Assert.Empty(System.IO.Directory.GetFiles(folder.Path));
    }
}
