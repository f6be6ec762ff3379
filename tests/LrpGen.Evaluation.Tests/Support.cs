using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Evaluation.Tests;

/// <summary>A small random LLaMA written as a Hugging Face folder and loaded back.</summary>
public static class TinyLlama
{
    public static DecoderConfig Config => new()
    {
        ModelType = "llama",
        VocabSize = 20,
        HiddenSize = 16,
        IntermediateSize = 32,
        Layers = 2,
        Heads = 4,
        KvHeads = 2,
        HeadDim = 4,
        RmsNormEps = 1e-6,
        RopeTheta = 10000,
        MaxPositions = 64,
    };

    public static CausalLm Create(string folder, int seed = 3, double rmsNormEps = 1e-6)
    {
        torch.manual_seed(seed);
        var config = Config with { RmsNormEps = rmsNormEps };
        using (var model = new LlamaForCausalLM(config))
        {
            using (torch.no_grad())
                foreach (var (name, p) in model.named_parameters())
                    if (!name.EndsWith("norm.weight", StringComparison.Ordinal)) nn.init.normal_(p, 0, 0.3);
            LlamaCheckpoint.Save(model, config, folder);
        }
        return CausalLm.Load(folder);
    }
}

/// <summary>f(x) = sum_{t,h} W[t,h] x[t,h]: a linear model whose attributions are known in closed form.</summary>
public sealed class LinearInput : IExplainedInput
{
    private readonly Tensor _x, _w;

    public LinearInput(float[,] x, float[,] w)
    {
        _x = torch.tensor(x);
        _w = torch.tensor(w);
        Tokens = Enumerable.Range(0, x.GetLength(0)).Select(i => "t" + i).ToArray();
        Readout = Enumerable.Repeat(1f / x.GetLength(0), x.GetLength(0)).ToArray();
    }

    public IReadOnlyList<string> Tokens { get; }
    public Tensor Embeddings => _x;
    public float[] Readout { get; }
    public List<Tensor> Attention { get; } = new();

    public Tensor Score(Tensor embeddings) => (embeddings * _w).sum(new long[] { 1, 2 });

    public float[] LrpRelevance(LrpMethod method)
    {
        using var r = (_x * _w).sum(new long[] { -1 });
        return r.data<float>().ToArray();
    }

    public IReadOnlyList<Tensor> AttentionProbabilities() => Attention.Select(a => a.clone()).ToList();

    public void Dispose()
    {
        _x.Dispose();
        _w.Dispose();
        foreach (var a in Attention) a.Dispose();
    }
}
