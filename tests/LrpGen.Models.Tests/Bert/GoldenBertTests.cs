using System;
using System.IO;
using LrpGen.Models.Bert;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.Decoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Bert;

/// <summary>LXT's numbers for the tiny BertForSequenceClassification: logits within 1e-5, relevance at the word
/// embeddings, per token and at each block output within 2e-4 x max|expected|.</summary>
public class GoldenBertTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public GoldenBertTests(Xunit.Abstractions.ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("gradx", LrpMethod.Gradient)]
    [InlineData("attnlrp", LrpMethod.AttnLrp)]
    [InlineData("cplrp", LrpMethod.CpLrp)]
    public void MatchesLxt(string variant, LrpMethod method)
    {
        var folder = GoldenData.Folder("bert");
        var golden = SafetensorsFile.Open(Path.Combine(folder, variant + ".safetensors"));
        using var classifier = BertClassifier.Load(folder);
        using var explanation = classifier.Explain(golden.Load("input_ids"), null, new LrpGen.Models.Decoders.ExplainRequest
        {
            Method = method,
            Latents = new[] { "layers.*" },
        });
        GoldenCausalLmTests.AssertClose(explanation.Logits[0], golden.Load("logits_last"), 1e-5, absolute: true, "logits");
        Assert.Equal(golden.Load("target").item<long>(), explanation.Targets[0]);
        GoldenCausalLmTests.AssertClose(explanation.EmbeddingRelevance[0], golden.Load("relevance_embeds"), GoldenCausalLmTests.Tolerance, false, "relevance_embeds");
        GoldenCausalLmTests.AssertClose(explanation.TokenRelevance[0], golden.Load("relevance_tokens"), GoldenCausalLmTests.Tolerance, false, "relevance_tokens");
        double logit = Math.Abs(explanation.TargetLogits[0]);
        for (int i = 0; i < classifier.Config.Layers; i++)
            GoldenCausalLmTests.AssertClose(explanation.Latents[$"layers.{i}"][0].sum(-1), golden.Load($"latent_layer{i}_tokens"),
                GoldenCausalLmTests.Tolerance, false, $"latent_layer{i}_tokens", floor: 1e-3 * logit);
        _output.WriteLine($"bert {variant}: " + GoldenCausalLmTests.TakeMeasurements());
    }
}
