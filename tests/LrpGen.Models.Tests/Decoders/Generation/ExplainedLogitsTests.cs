using System;
using LrpGen.Models.Decoders;
using LrpGen.Models.Gpt2;
using LrpGen.Models.Tests.Decoders.Families;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Generation;

/// <summary>The decoders' named-ids output (<see cref="ExplainedLogits"/>: rows [R, 1 + K]) against their full output
/// (rows [R]): the K logits are the full logits at those ids, the last column is the full row's log-sum-exp, and seed
/// weights [S, R, K + 1] give the relevance that the same weights spread over the vocabulary ([S, R, vocab]) give on
/// the full output: what <see cref="CausalLm.ExplainGeneration(long[], long[], ExplainRequest)"/> hands to the
/// backward instead of dense seeds.</summary>
public class ExplainedLogitsTests
{
    /// <summary>The family's generated pass on token ids with prepared inputs (the module's own entry point).</summary>
    private static LrpPass Forward(CausalLm lm, Tensor embeds, DecoderInputs inputs, LrpOptions options) => lm.Module switch
    {
        LlamaForCausalLM m => m.LrpForward(embeds, inputs.LayerCos!, inputs.LayerSin!, inputs.LayerMasks, inputs.Rows, options),
        GemmaForCausalLM m => m.LrpForward(embeds, inputs.LayerCos!, inputs.LayerSin!, inputs.LayerMasks, inputs.Rows, options),
        Gpt2LMHeadModel m => m.LrpForward(embeds, inputs.Positions, inputs.Mask, inputs.Rows, options),
        _ => throw new InvalidOperationException($"no entry point for {lm.Module.GetType().Name}"),
    };

    private static CausalLm Load(string model, ScalarType dtype, out IDisposable? folder)
    {
        folder = null;
        if (model != "gemma2") return CausalLm.Load(GoldenData.Folder(model), dtype);
        // Soft-capped final logits and tied embeddings, in float64.
        var tiny = FamilyTests.Families[model]().Draw(seed: 3);
        var written = tiny.Write();
        folder = written;
        return CausalLm.Load(written.Path, dtype);
    }

    /// <summary>The relative tolerance of the relevance: float rounding of the model's dtype (the backward runs in it).</summary>
    private static double Tolerance(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => 1e-9,
        ScalarType.Float32 => 1e-5,
        _ => 2e-2,
    };

    [Theory]
    [InlineData("llama", LrpMethod.AttnLrp, ScalarType.Float32)]
    [InlineData("llama", LrpMethod.AttnLrp, ScalarType.BFloat16)]
    [InlineData("gpt2", LrpMethod.CpLrp, ScalarType.Float32)]
    [InlineData("gemma2", LrpMethod.AttnLrp, ScalarType.Float64)]
    [InlineData("gemma2", LrpMethod.Gradient, ScalarType.Float64)]
    public void NamedIdsGiveTheFullOutputsLogitsAndRelevance(string model, LrpMethod method, ScalarType dtype)
    {
        using var lm = Load(model, dtype, out var folder);
        using var _ = folder;
        bool rotary = lm.Module is not Gpt2LMHeadModel;
        const int batch = 2, explainedRows = 3, named = 3;
        torch.manual_seed(17);
        using var ids = torch.randint(0, lm.Config.VocabSize, new long[] { batch, 7 }, ScalarType.Int64);
        using var mask = torch.ones(batch, 7, ScalarType.Int64);
        using var explained = torch.tensor(new long[,] { { 2, 4, 6 }, { 6, 1, 3 } });
        // Repeated ids within a row (a rival equal to the target) are allowed: each column is its own logit.
        using var explainedIds = torch.randint(0, lm.Config.VocabSize, new long[] { batch, explainedRows, named }, ScalarType.Int64);
        explainedIds[0, 1, 2] = explainedIds[0, 1, 0].clone();
        using var embeds = lm.Embed(ids);
        var options = new LrpOptions { Method = method };
        using var fullInputs = DecoderInputs.Prepare(lm.Config, ids, mask, lm.DType, lm.Device, rotary, explained);
        using var namedInputs = DecoderInputs.Prepare(lm.Config, ids, mask, lm.DType, lm.Device, rotary, explained, explainedIds);
        using var full = Forward(lm, embeds, fullInputs, options);
        using var picked = Forward(lm, embeds, namedInputs, options);

        long rows = batch * explainedRows, vocab = lm.Config.VocabSize;
        Assert.Equal(new[] { rows, vocab }, full.Output.shape);
        Assert.Equal(new[] { rows, named + 1L }, picked.Output.shape);
        // Half-precision logits come out widened to float32: the log-sum-exp keeps float32 precision.
        Assert.Equal(dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32, picked.Output.dtype);
        using var idsPerRow = explainedIds.reshape(rows, named);
        double tolerance = dtype == ScalarType.Float64 ? 1e-10 : dtype == ScalarType.Float32 ? 1e-5 : 1e-6;
        using var fullLogits = full.Output.to(ScalarType.Float64);
        Close.Relative(picked.Output.narrow(1, 0, named), fullLogits.gather(1, idsPerRow),
            dtype == ScalarType.BFloat16 ? 1e-2 : tolerance, $"{model}: the named logits");
        Close.Relative(picked.Output.narrow(1, named, 1), fullLogits.logsumexp(1, keepdim: true), tolerance, $"{model}: the log-sum-exp");

        // Seeds on a few rows each, random weights on the named columns, 0 on the log-sum-exp.
        const int seeds = 4;
        using var weights = torch.randn(seeds, rows, named + 1, ScalarType.Float64).to(picked.Output.dtype);
        weights.narrow(2, named, 1).zero_();
        weights[0, 0].zero_();
        // The same weights on the full output: at the named ids of each row (repeated ids add up).
        using var dense = torch.zeros(seeds, rows, vocab, full.Output.dtype)
            .scatter_add(2, idsPerRow.unsqueeze(0).expand(seeds, rows, named), weights.narrow(2, 0, named).to(full.Output.dtype));
        var expected = full.Backward(dense)[0];
        var actual = picked.Backward(weights)[0];
        Assert.Equal(new long[] { seeds, batch, 7, lm.Config.HiddenSize }, actual.shape);
        Close.Relative(actual, expected, Tolerance(dtype), $"{model} [{method}]: relevance of the named seeds");
    }
}
