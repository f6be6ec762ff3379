using System;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LrpGen.Evaluation.Tests;

/// <summary>Checks on the committed recall model behind docs/evaluation.md's notes: which token AttnLRP ranks first, and
/// relevance conservation per layer.</summary>
public class RecallModelChecks
{
    private readonly ITestOutputHelper _output;

    public RecallModelChecks(ITestOutputHelper output) => _output = output;

    [Fact]
    public void AttnLrpRanksTheQueriedKeyThenTheValue()
    {
        using var model = CausalLm.Load(Repository.RecallModel);
        var prompts = RecallTask.HeldOut(100, seed: 1);
        int queryFirst = 0, valueSecond = 0;
        double valueShare = 0, queryShare = 0;
        foreach (var p in prompts)
        {
            using var input = new CausalLmInput(model, p.Ids, p.Answer, answerPosition: p.AnswerPosition);
            var r = input.LrpRelevance(LrpMethod.AttnLrp);
            var order = Perturbation.MostRelevantFirst(r);
            if (order[0] == p.Ids.Length - 1) queryFirst++;
            if (order[1] == p.AnswerPosition) valueSecond++;
            double total = r.Sum(v => Math.Abs((double)v));
            valueShare += Math.Abs(r[p.AnswerPosition]) / total;
            queryShare += Math.Abs(r[^1]) / total;
        }
        _output.WriteLine($"AttnLRP: queried key first in {queryFirst}/100, value second in {valueSecond}/100; mean share of |R|: value {valueShare / 100:0.000}, queried key {queryShare / 100:0.000}");
        Assert.True(queryFirst >= 90, $"queried key first in {queryFirst}/100");
    }

    [Fact]
    public void AttnLrpConservesPerLayer()
    {
        using var model = CausalLm.Load(Repository.RecallModel);
        var prompts = RecallTask.HeldOut(50, seed: 1);
        double worst = 0, worstInput = 0;
        foreach (var p in prompts)
        {
            using var e = model.Explain(new[] { p.Ids }, new ExplainRequest { Targets = new[] { p.Answer }, Latents = new[] { "layers.*" } });
            double logit = e.TargetLogits[0];
            foreach (var (name, latent) in e.Latents)
            {
                double sum = latent.sum().to(ScalarType.Float64).item<double>();
                worst = Math.Max(worst, Math.Abs(sum - logit) / Math.Abs(logit));
            }
            double input = e.EmbeddingRelevance.sum().to(ScalarType.Float64).item<double>();
            worstInput = Math.Max(worstInput, Math.Abs(input - logit) / Math.Abs(logit));
        }
        _output.WriteLine($"AttnLRP conservation on 50 prompts: worst |sum R(layer output) - logit| / |logit| = {worst:0.0000}; at the input embeddings {worstInput:0.0000}");
        Assert.True(worst < 0.5);
    }
}
