using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Evaluation.Tests;

/// <summary>The recall evaluation's contrastive target and its "both necessary tokens in the top two" score.</summary>
public class RecallTargetTests
{
    [Fact]
    public void EvidenceIsOnTopWhenItFillsTheTopRanks()
    {
        // Most relevant first: 1 (2.0), 4 (1.5), 0 (0.5), 2 (0.5, tie after 0), 3 (-1).
        var relevance = new[] { 0.5f, 2f, 0.5f, -1f, 1.5f };
        Assert.True(Evaluations.EvidenceIsOnTop(relevance, new[] { 4, 1 }));
        Assert.False(Evaluations.EvidenceIsOnTop(relevance, new[] { 1, 0 }));
        // Signed: the most negative token is the least relevant, not the most.
        Assert.False(Evaluations.EvidenceIsOnTop(relevance, new[] { 1, 3 }));
        Assert.True(Evaluations.EvidenceIsOnTop(relevance, new[] { 1, 4, 0 }));
        // The tie at 0.5 goes to the lower position.
        Assert.False(Evaluations.EvidenceIsOnTop(relevance, new[] { 1, 4, 2 }));
        Assert.True(Evaluations.EvidenceIsOnTop(relevance, new[] { 1 }));
        Assert.Throws<ArgumentException>(() => Evaluations.EvidenceIsOnTop(relevance, new[] { 1, 1 }));
    }

    [Fact]
    public void PlausibilityCountsInputsWithBothEvidenceTokensOnTop()
    {
        // Linear inputs with x = 1: token relevance = row sums of W. Answer at 0, evidence {0, 2}.
        var x = new float[,] { { 1 }, { 1 }, { 1 } };
        var inputs = new Func<IAnsweredInput>[]
        {
            () => new AnsweredLinearInput(x, new float[,] { { 3 }, { 1 }, { 2 } }),  // ranks 0, 2, 1: top-1 yes, evidence on top
            () => new AnsweredLinearInput(x, new float[,] { { 2 }, { 1 }, { 3 } }),  // 2, 0, 1: top-1 no (rank 2), evidence on top
            () => new AnsweredLinearInput(x, new float[,] { { 3 }, { 2 }, { 1 } }),  // 0, 1, 2: top-1 yes, evidence not on top
            () => new AnsweredLinearInput(x, new float[,] { { 1 }, { 3 }, { 2 } }),  // 1, 2, 0: rank 3, evidence not on top
        };
        var result = Evaluations.Plausibility(inputs.Select(make => make()), new[] { AttributionMethod.InputXGradient });
        var row = Assert.Single(result.Methods);
        Assert.Equal(2.0 / 4, row.Top1, 12);
        Assert.Equal(2.0 / 4, row.EvidenceOnTop, 12);
        Assert.Equal((1 + 2 + 1 + 3) / 4.0, row.MeanRank, 12);
    }

    [Fact]
    public void RivalsAreTheQueriedKeysOtherValuesAndTheEvidenceIsTheValueAndTheQuery()
    {
        // Ids: <s> 0, ; 1, k0= .. k7= 2..9, v0a .. v7d 10..41; v1a .. v1d are 14..17.
        var ids = RecallTask.Parse("<s> k3=v3b k1=v1d ; k1=");
        var prompt = new RecallPrompt(ids, 17, 4);
        Assert.Equal(new long[] { 14, 15, 16 }, prompt.Rivals);
        Assert.Equal(new[] { 4, 6 }, prompt.EvidencePositions);
        Assert.Equal(new long[] { 38, 39, 40 }, RecallTask.OtherValues(41));
        Assert.Throws<ArgumentException>(() => RecallTask.OtherValues(5));
        var random = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            var p = RecallTask.Sample(random);
            Assert.Equal(RecallTask.ValuesPerKey - 1, p.Rivals.Length);
            Assert.DoesNotContain(p.Answer, p.Rivals);
            // Every rival belongs to the queried key, as the answer does.
            Assert.All(p.Rivals, r => Assert.Equal((p.Answer - 10) / 4, (r - 10) / 4));
            Assert.True(RecallTask.IsKey(p.Ids[p.EvidencePositions[1]]));
        }
    }

    [Fact]
    public void ContrastScoreIsTheAnswerLogitMinusTheRivalsMeanLogit()
    {
        using var model = CausalLm.Load(Repository.RecallModel);
        var prompt = RecallTask.HeldOut(3, seed: 4)[2];
        using var input = new CausalLmInput(model, prompt.Ids, prompt.Answer, answerPosition: prompt.AnswerPosition, rivals: prompt.Rivals,
            evidencePositions: prompt.EvidencePositions);
        double[] logits;
        using (torch.no_grad())
        using (var x = input.Embeddings.unsqueeze(0))
        using (var l = model.Logits(x).to(ScalarType.Float64))
            logits = l[0].data<double>().ToArray();
        double expected = logits[prompt.Answer] - prompt.Rivals.Average(r => logits[r]);
        using (torch.no_grad())
        using (var x = input.Embeddings.unsqueeze(0))
        using (var s = input.Score(x))
            Assert.Equal(expected, s.item<float>(), 4);
        // The seed: +1 at the answer, -1/3 at each rival, 0 elsewhere.
        using var seed = input.SeedWeights(logits.Length, ScalarType.Float64, CPU);
        var w = seed.data<double>().ToArray();
        Assert.Equal(1.0, w[prompt.Answer]);
        Assert.All(prompt.Rivals, r => Assert.Equal(-1.0 / 3, w[r], 15));
        Assert.Equal(1 + prompt.Rivals.Length, w.Count(v => v != 0));
        Assert.Equal(expected, w.Zip(logits, (a, b) => a * b).Sum(), 4);
        Assert.True(expected > 0, $"the model prefers the answer over its rivals: contrast {expected}");
    }

    [Theory]
    [InlineData(LrpMethod.AttnLrp)]
    [InlineData(LrpMethod.CpLrp)]
    [InlineData(LrpMethod.Gradient)]
    public void ContrastRelevanceIsTheAnswersMinusTheRivalsMean(LrpMethod method)
    {
        // For a fixed forward the relevance pass is linear in its seed, so the contrast's relevance is the answer's minus
        // the mean of the three rivals' single-logit relevance.
        using var model = CausalLm.Load(Repository.RecallModel);
        var prompt = RecallTask.HeldOut(3, seed: 4)[2];
        float[] Single(long target)
        {
            using var one = new CausalLmInput(model, prompt.Ids, target);
            return one.LrpRelevance(method);
        }
        var answer = Single(prompt.Answer);
        var rivals = prompt.Rivals.Select(Single).ToArray();
        using var input = new CausalLmInput(model, prompt.Ids, prompt.Answer, rivals: prompt.Rivals);
        var contrast = input.LrpRelevance(method);
        double scale = answer.Max(v => Math.Abs((double)v));
        for (int t = 0; t < contrast.Length; t++)
        {
            double expected = answer[t] - rivals.Average(r => (double)r[t]);
            Assert.True(Math.Abs(contrast[t] - expected) <= 1e-5 * scale, $"position {t}: {contrast[t]} vs {expected}");
        }
        // CausalLm.Explain with the same rivals agrees.
        using var explanation = model.Explain(new[] { prompt.Ids }, new ExplainRequest { Method = method, Targets = new[] { prompt.Answer }, Rivals = prompt.Rivals });
        var byModel = explanation.TokenRelevance[0].data<float>().ToArray();
        for (int t = 0; t < contrast.Length; t++) Assert.True(Math.Abs(contrast[t] - byModel[t]) <= 1e-5 * scale, $"position {t}");
        if (method == LrpMethod.Gradient)
        {
            // Autograd's input x gradient of the contrastive score.
            var autograd = Attribution.SmoothGrad(input, samples: 1, noise: 0);
            for (int t = 0; t < contrast.Length; t++) Assert.True(Math.Abs(contrast[t] - autograd[t]) <= 1e-4 * scale, $"position {t}");
        }
    }

    [Fact]
    public void BadRivalsAndEvidenceAreRefused()
    {
        using var model = CausalLm.Load(Repository.RecallModel);
        var ids = RecallTask.Parse("<s> k3=v3b k1=v1d ; k1=");
        Assert.Contains("target itself", Assert.Throws<ArgumentException>(() => new CausalLmInput(model, ids, 17, rivals: new long[] { 14, 17 })).Message);
        Assert.Contains("not a token id", Assert.Throws<ArgumentException>(() => new CausalLmInput(model, ids, 17, rivals: new long[] { 99 })).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new CausalLmInput(model, ids, 17, rivals: new long[] { 14, 14 })).Message);
        Assert.Contains("evidence positions", Assert.Throws<ArgumentException>(() => new CausalLmInput(model, ids, 17, answerPosition: 4, evidencePositions: new[] { 4, 7 })).Message);
        Assert.Contains("evidence positions", Assert.Throws<ArgumentException>(() => new CausalLmInput(model, ids, 17, answerPosition: 4, evidencePositions: new[] { 6 })).Message);
    }

    /// <summary>A linear input whose answer is token 0 and whose evidence is tokens 0 and 2.</summary>
    private sealed class AnsweredLinearInput : IAnsweredInput
    {
        private readonly LinearInput _inner;

        public AnsweredLinearInput(float[,] x, float[,] w) => _inner = new LinearInput(x, w);

        public int AnswerPosition => 0;
        public IReadOnlyList<int> EvidencePositions => new[] { 0, 2 };
        public IReadOnlyList<string> Tokens => _inner.Tokens;
        public Tensor Embeddings => _inner.Embeddings;
        public float[] Readout => _inner.Readout;
        public Tensor Score(Tensor embeddings) => _inner.Score(embeddings);
        public float[] LrpRelevance(LrpMethod method) => _inner.LrpRelevance(method);
        public IReadOnlyList<Tensor> AttentionProbabilities() => _inner.AttentionProbabilities();
        public void Dispose() => _inner.Dispose();
    }
}
