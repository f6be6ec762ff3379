using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders;

/// <summary>Checkpoint formats: sharded folders, half-precision weights and models, llama3 RoPE scaling, bad folders.</summary>
public class CheckpointFormatTests
{
    private static readonly long[][] Prompt = { new long[] { 5, 17, 3, 42, 8, 23, 11 } };

    private static string CopyFolder(TempFolder into, string name, string from, Func<string, Tensor, Tensor>? convert = null, int shards = 1, Action<Dictionary<string, object?>>? editConfig = null)
    {
        var to = into.File(name);
        Directory.CreateDirectory(to);
        var config = JsonSerializer.Deserialize<Dictionary<string, object?>>(File.ReadAllText(Path.Combine(from, "config.json")))!;
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(to, "config.json"), JsonSerializer.Serialize(config));
        var source = SafetensorsFile.Open(Path.Combine(from, "model.safetensors"));
        var names = source.TensorNames.OrderBy(n => n, StringComparer.Ordinal).ToList();
        var tensors = names.ToDictionary(n => n, n => convert is null ? source.Load(n) : convert(n, source.Load(n)));
        if (shards == 1)
        {
            SafetensorsFile.Write(Path.Combine(to, "model.safetensors"), tensors);
            return to;
        }
        var map = new Dictionary<string, string>();
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:00000}-of-{shards:00000}.safetensors";
            var part = names.Where((_, i) => i % shards == s).ToDictionary(n => n, n => tensors[n]);
            SafetensorsFile.Write(Path.Combine(to, file), part);
            foreach (var n in part.Keys) map[n] = file;
        }
        File.WriteAllText(Path.Combine(to, "model.safetensors.index.json"), JsonSerializer.Serialize(new { metadata = new { }, weight_map = map }));
        return to;
    }

    private static Tensor Relevance(string folder, ScalarType dtype = ScalarType.Float32)
    {
        using var lm = CausalLm.Load(folder, dtype);
        using var e = lm.Explain(Prompt, new ExplainRequest { Targets = new long[] { 7 } });
        return e.TokenRelevance.clone();
    }

    [Fact]
    public void ShardedFolderGivesTheSameRelevance()
    {
        var golden = GoldenData.Folder("llama");
        using var temp = new TempFolder();
        var sharded = CopyFolder(temp, "sharded", golden, shards: 3);
        GoldenCausalLmTests.AssertClose(Relevance(sharded), Relevance(golden), 0, absolute: true, "sharded vs single file");
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void HalfPrecisionWeightsAndModels(ScalarType half)
    {
        var golden = GoldenData.Folder("llama");
        using var temp = new TempFolder();
        var stored = CopyFolder(temp, "half", golden, (_, t) => t.to(half));
        var reference = Relevance(golden);
        // Weights stored in half precision, model run in float32: the rounding of the weights only.
        var fromHalfWeights = Relevance(stored);
        GoldenCausalLmTests.AssertClose(fromHalfWeights, reference, 0.05, absolute: false, $"{half} weights");
        // The model itself in half precision: relevance still comes out in float32.
        var halfModel = Relevance(golden, half);
        Assert.Equal(ScalarType.Float32, halfModel.dtype);
        GoldenCausalLmTests.AssertClose(halfModel, reference, 0.1, absolute: false, $"{half} model");
    }

    [Fact]
    public void Llama3RopeScalingFollowsTheBands()
    {
        // dim 6, theta 1e4: inverse frequencies 1, 1e4^(-1/3), 1e4^(-2/3); wavelengths 6.28, 135.4, 2916.
        // original context 1000, low 1, high 4: short wavelengths (< 250) are kept, long ones (> 1000) divided by 8.
        var config = new DecoderConfig { HeadDim = 6, RopeTheta = 1e4, RopeScaling = new Llama3RopeScaling(8, 1, 4, 1000) };
        var inv = Rotary.InverseFrequencies(config).data<float>().ToArray();
        Assert.Equal(1.0, inv[0], 6);
        Assert.Equal(Math.Pow(1e4, -1.0 / 3), inv[1], 6);
        Assert.Equal(Math.Pow(1e4, -2.0 / 3) / 8, inv[2], 6);
        // dim 4: 1 and 0.01 (wavelength 628.3 lies in the band): smooth = (1000/628.3 - 1)/3, blended.
        var band = Rotary.InverseFrequencies(config with { HeadDim = 4 }).data<float>().ToArray();
        double smooth = (1000 / (2 * Math.PI / 0.01) - 1) / 3;
        Assert.Equal((1 - smooth) * 0.01 / 8 + smooth * 0.01, band[1], 6);
    }

    [Fact]
    public void UnsupportedConfigurationsAreClearErrors()
    {
        var golden = GoldenData.Folder("llama");
        using var temp = new TempFolder();
        var rope = CopyFolder(temp, "yarn", golden, editConfig: c => c["rope_parameters"] = new { rope_type = "yarn", rope_theta = 1e4, factor = 2.0 });
        var type = CopyFolder(temp, "mamba", golden, editConfig: c => c["model_type"] = "mamba");
        var e1 = Assert.Throws<CheckpointException>(() => { CausalLm.Load(rope); });
        Assert.Contains("yarn", e1.Message);
        var e2 = Assert.Throws<CheckpointException>(() => { CausalLm.Load(type); });
        Assert.Contains("mamba", e2.Message);
        Assert.Contains("config.json", e2.Message);
    }
}
