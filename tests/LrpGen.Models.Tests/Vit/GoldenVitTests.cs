using System.IO;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.Decoders;
using LrpGen.Models.Vit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Vit;

/// <summary>LXT's ViT recipe on the tiny torchvision ViT: Gamma on the patch embedding (0.25) and module linears
/// (0.05), CP-LRP inside attention, identity on GELU, LayerNorm std constant. Logits within 1e-5, pixel relevance
/// and its channel sum within 2e-4 x max|expected|.</summary>
public class GoldenVitTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public GoldenVitTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("gradx", LrpMethod.Gradient)]
    [InlineData("attnlrp", LrpMethod.AttnLrp)]
    public void MatchesLxt(string variant, LrpMethod method)
    {
        var folder = GoldenData.Folder("vit");
        var golden = SafetensorsFile.Open(Path.Combine(folder, variant + ".safetensors"));
        using var vit = VitClassifier.Load(folder);
        var pixels = golden.Load("pixels");
        var (targets, logits, relevance) = vit.Explain(pixels, method);
        using (var output = vit.Model.call(pixels))
            GoldenCausalLmTests.AssertClose(output[0], golden.Load("logits_last"), 1e-5, absolute: true, "logits");
        Assert.Equal(golden.Load("target").item<long>(), targets[0]);
        GoldenCausalLmTests.AssertClose(relevance[0], golden.Load("relevance_pixels"), GoldenCausalLmTests.Tolerance, false, "relevance_pixels");
        GoldenCausalLmTests.AssertClose(relevance[0].sum(new long[] { 0 }), golden.Load("relevance_map"), GoldenCausalLmTests.Tolerance, false, "relevance_map");
        _output.WriteLine($"vit {variant}: " + GoldenCausalLmTests.TakeMeasurements());
    }
}
