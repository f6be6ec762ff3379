using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Cli.Tests;

/// <summary><c>lrpgen explain &lt;golden&gt; --ids ... --method m --json out.json</c> reproduces LXT's numbers for every golden
/// text model (LLaMA, Qwen3-MoE, GPT-2: next-token logit; BERT: class logit): the logit
/// within 1e-5, token relevance and every block output's relevance within 2e-4 x max|expected|.</summary>
public class GoldenExplainTests
{
    private const double Tolerance = 2e-4;

    public static TheoryData<string, string> Cases() => new()
    {
        { "llama", "attnlrp" },
        { "llama", "cplrp" },
        { "llama", "gradx" },
        { "qwen3moe", "attnlrp" },
        { "qwen3moe", "gradx" },
        { "gpt2", "attnlrp" },
        { "gpt2", "cplrp" },
        { "gpt2", "gradx" },
        { "bert", "attnlrp" },
        { "bert", "cplrp" },
        { "bert", "gradx" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void JsonMatchesLxt(string model, string method)
    {
        var folder = GoldenData.Folder(model);
        var golden = SafetensorsFile.Open(Path.Combine(folder, method + ".safetensors"));
        var ids = Floats(golden.Load("input_ids")).Select(v => (long)v).ToArray();
        long target = golden.Load("target").to(ScalarType.Int64).item<long>();
        using var temp = new TempFolder();
        var json = temp.File("out.json");

        var run = CliRun.Of("explain", folder, "--ids", string.Join(",", ids), "--method", method, "--json", json);

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = TempFolder.ReadJson(json);
        var root = doc.RootElement;
        Assert.Equal(model == "qwen3moe" ? "qwen3_moe" : model, root.GetProperty("model_type").GetString());
        Assert.Equal(method, root.GetProperty("method").GetString());
        Assert.Equal(target, root.GetProperty("target").GetInt64());
        Assert.Equal(ids, root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt64()));
        Assert.False(root.TryGetProperty("pieces", out _), "no tokenizer.json, so no pieces");

        double logit = root.GetProperty("logit").GetDouble();
        double expectedLogit = Floats(golden.Load("logits_last"))[target];
        Assert.True(Math.Abs(logit - expectedLogit) <= 1e-5, $"logit {logit} vs LXT {expectedLogit}");

        AssertClose(Array(root.GetProperty("relevance")), Floats(golden.Load("relevance_tokens")), 0, "relevance");

        var latent = root.GetProperty("latent");
        int layers = latent.EnumerateObject().Count();
        Assert.Equal(2, layers);
        // Input x gradient at the last block's output cancels to ~0 through the final RMSNorm: compare latents on
        // the scale of the logit when LXT's values are smaller than that.
        for (int i = 0; i < layers; i++)
            AssertClose(Array(latent.GetProperty($"layers.{i}")), Floats(golden.Load($"latent_layer{i}_tokens")), 1e-3 * Math.Abs(expectedLogit), $"layers.{i}");
    }

    [Fact]
    public void DefaultMethodIsAttnLrpAndDefaultTargetIsTheTopLogit()
    {
        var folder = GoldenData.Folder("llama");
        var golden = SafetensorsFile.Open(Path.Combine(folder, "attnlrp.safetensors"));
        var ids = string.Join(",", Floats(golden.Load("input_ids")).Select(v => (long)v));
        using var temp = new TempFolder();

        var run = CliRun.Of("explain", folder, "--ids", ids, "--json", temp.File("default.json"));
        var explicitTarget = CliRun.Of("explain", folder, "--ids", ids, "--target", "7", "--json", temp.File("target.json"));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(explicitTarget.ExitCode == 0, explicitTarget.ToString());
        using var doc = TempFolder.ReadJson(temp.File("default.json"));
        Assert.Equal("attnlrp", doc.RootElement.GetProperty("method").GetString());
        Assert.Equal(golden.Load("target").to(ScalarType.Int64).item<long>(), doc.RootElement.GetProperty("target").GetInt64());
        using var other = TempFolder.ReadJson(temp.File("target.json"));
        Assert.Equal(7, other.RootElement.GetProperty("target").GetInt64());
        double expected = Floats(golden.Load("logits_last"))[7];
        Assert.True(Math.Abs(other.RootElement.GetProperty("logit").GetDouble() - expected) <= 1e-5);
    }

    /// <summary>--dtype reaches the model: every method runs in bfloat16 and float16 and stays close to float32.</summary>
    [Fact]
    public void HalfPrecisionRunsAndStaysCloseToFloat32()
    {
        var folder = GoldenData.Folder("llama");
        var golden = SafetensorsFile.Open(Path.Combine(folder, "cplrp.safetensors"));
        var ids = string.Join(",", Floats(golden.Load("input_ids")).Select(v => (long)v));
        long target = golden.Load("target").to(ScalarType.Int64).item<long>();
        using var temp = new TempFolder();
        foreach (var dtype in new[] { "bfloat16", "float16" })
        foreach (var method in new[] { "attnlrp", "cplrp", "gradx" })
        {
            var json = temp.File(dtype + method + ".json");
            var run = CliRun.Of("explain", folder, "--ids", ids, "--target", target.ToString(), "--method", method, "--dtype", dtype, "--json", json);
            Assert.True(run.ExitCode == 0, run.ToString());
            using var doc = TempFolder.ReadJson(json);
            double expected = Floats(golden.Load("logits_last"))[target];
            double logit = doc.RootElement.GetProperty("logit").GetDouble();
            Assert.True(Math.Abs(logit - expected) <= 0.05 * Math.Max(1, Math.Abs(expected)), $"{dtype}: logit {logit} vs {expected}");
            Assert.All(Array(doc.RootElement.GetProperty("relevance")), r => Assert.True(double.IsFinite(r)));
        }
    }

    private static double[] Array(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static double[] Floats(Tensor t)
    {
        using var d = t.to(ScalarType.Float64).flatten();
        return d.data<double>().ToArray();
    }

    private static void AssertClose(double[] actual, double[] expected, double floor, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(expected.Max(Math.Abs), floor);
        double diff = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        Assert.True(diff <= Tolerance * scale, $"{what}: max |diff| {diff:E3} > {Tolerance:E1} x {scale:E3}");
    }
}
