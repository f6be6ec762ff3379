using System;
using System.Collections.Generic;
using System.IO;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.HuggingFace;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Encoders;

/// <summary>The independent truth for the encoders: Hugging Face's architectures written again in plain TorchSharp,
/// reading each weight by its Hugging Face name from the state dict the test wrote (so our weight-name maps and our
/// position and mask inputs are checked too), with the AttnLRP / CP-LRP rules injected into autograd
/// (<see cref="RuleInjection"/>: the values stay exact, only gradients change).</summary>
internal static class HfEncoderReference
{
    public const double Tolerance = 1e-6;

    /// <summary>A random float64 state dict of the given Hugging Face names and shapes (LayerNorm weights near 1).</summary>
    public static TensorSet RandomStateDict(IEnumerable<(string Name, long[] Shape)> entries, long seed)
    {
        torch.manual_seed(seed);
        var set = new TensorSet();
        foreach (var (name, shape) in entries)
        {
            var t = torch.randn(shape, ScalarType.Float64).mul(0.5);
            set[name] = name.Contains("LayerNorm.weight") || name.Contains("layer_norm.weight") ? t.mul(0.2).add(1) : t;
        }
        return set;
    }

    /// <summary>The Hugging Face names and shapes of a BERT-layout encoder (BertModel / RobertaModel / XLMRobertaModel)
    /// under <paramref name="prefix"/>: embeddings, then each post-LN layer.</summary>
    public static IEnumerable<(string Name, long[] Shape)> BertShapes(string prefix, int vocab, int positions, int typeVocab,
        int hidden, int inner, int layers)
    {
        yield return (prefix + "embeddings.word_embeddings.weight", new long[] { vocab, hidden });
        yield return (prefix + "embeddings.position_embeddings.weight", new long[] { positions, hidden });
        yield return (prefix + "embeddings.token_type_embeddings.weight", new long[] { typeVocab, hidden });
        yield return (prefix + "embeddings.LayerNorm.weight", new long[] { hidden });
        yield return (prefix + "embeddings.LayerNorm.bias", new long[] { hidden });
        for (int i = 0; i < layers; i++)
            foreach (var entry in LayerShapes($"{prefix}encoder.layer.{i}.", hidden, inner,
                new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" },
                "intermediate.dense", "output.dense", new[] { "attention.output.LayerNorm", "output.LayerNorm" }))
                yield return entry;
    }

    /// <summary>The Hugging Face names and shapes of a DistilBertModel under <paramref name="prefix"/>.</summary>
    public static IEnumerable<(string Name, long[] Shape)> DistilBertShapes(string prefix, int vocab, int positions, int hidden,
        int inner, int layers)
    {
        yield return (prefix + "embeddings.word_embeddings.weight", new long[] { vocab, hidden });
        yield return (prefix + "embeddings.position_embeddings.weight", new long[] { positions, hidden });
        yield return (prefix + "embeddings.LayerNorm.weight", new long[] { hidden });
        yield return (prefix + "embeddings.LayerNorm.bias", new long[] { hidden });
        for (int i = 0; i < layers; i++)
            foreach (var entry in LayerShapes($"{prefix}transformer.layer.{i}.", hidden, inner,
                new[] { "attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin" },
                "ffn.lin1", "ffn.lin2", new[] { "sa_layer_norm", "output_layer_norm" }))
                yield return entry;
    }

    /// <summary>One post-LN layer: four square attention projections, the two MLP projections, two LayerNorms.</summary>
    private static IEnumerable<(string Name, long[] Shape)> LayerShapes(string layer, int hidden, int inner,
        string[] attention, string up, string down, string[] norms)
    {
        foreach (var name in attention)
        {
            yield return (layer + name + ".weight", new long[] { hidden, hidden });
            yield return (layer + name + ".bias", new long[] { hidden });
        }
        yield return (layer + up + ".weight", new long[] { inner, hidden });
        yield return (layer + up + ".bias", new long[] { inner });
        yield return (layer + down + ".weight", new long[] { hidden, inner });
        yield return (layer + down + ".bias", new long[] { hidden });
        foreach (var norm in norms)
        {
            yield return (layer + norm + ".weight", new long[] { hidden });
            yield return (layer + norm + ".bias", new long[] { hidden });
        }
    }

    /// <summary>Writes config.json and model.safetensors into <paramref name="folder"/> and opens it.</summary>
    public static CheckpointFolder WriteFolder(string folder, string configJson, TensorSet stateDict)
    {
        File.WriteAllText(Path.Combine(folder, CheckpointFolder.ConfigFileName), configJson);
        SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), stateDict);
        return CheckpointFolder.Open(folder);
    }

    /// <summary>Rows of an embedding matrix for ids [B, T]: [B, T, hidden].</summary>
    public static Tensor Rows(Tensor weight, Tensor ids) =>
        weight.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], weight.shape[1]);

    public static Tensor Linear(Tensor x, IReadOnlyDictionary<string, Tensor> w, string name) =>
        x.matmul(w[name + ".weight"].t()).add(w[name + ".bias"]);

    /// <summary>Hugging Face's extended attention mask: (1 - mask) * finfo(float64).min, [B, 1, 1, T].</summary>
    public static Tensor ExtendedMask(long[,] attention)
    {
        long b = attention.GetLength(0), t = attention.GetLength(1);
        var values = new double[b * t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++)
                values[i * t + j] = (1 - attention[i, j]) * double.MinValue;
        return torch.tensor(values, new[] { b, 1, 1, t });
    }

    /// <summary>One post-LN transformer layer as BertLayer / TransformerBlock compute it, under the weight names given
    /// (query, key, value, attention output, attention norm, feed-forward in, out, output norm).</summary>
    public static Tensor PostLnLayer(RuleInjection ri, Tensor h, Tensor mask, IReadOnlyDictionary<string, Tensor> w, long heads, double eps,
        string q, string k, string v, string attnOut, string attnNorm, string ffIn, string ffOut, string outNorm)
    {
        long B = h.shape[0], T = h.shape[1], H = h.shape[2], d = H / heads;
        Tensor Split(Tensor x) => x.view(B, T, heads, d).transpose(1, 2);
        var context = ri.Attention(Split(Linear(h, w, q)), Split(Linear(h, w, k)), Split(Linear(h, w, v)), mask, 1 / Math.Sqrt(d));
        var merged = context.transpose(1, 2).reshape(B, T, H);
        var attended = ri.LayerNorm(Linear(merged, w, attnOut).add(h), w[attnNorm + ".weight"], w[attnNorm + ".bias"], eps);
        var inner = ri.Identity(x => nn.functional.gelu(x), Linear(attended, w, ffIn));
        return ri.LayerNorm(Linear(inner, w, ffOut).add(attended), w[outNorm + ".weight"], w[outNorm + ".bias"], eps);
    }

    /// <summary>Compares a generated pass with the reference for AttnLRP, CP-LRP and the gradient: the output (the
    /// rules change no value) and the relevance at the word embeddings for random output weights.</summary>
    public static void Check(Func<LrpOptions, LrpPass> generated, Tensor words, Func<RuleInjection, Tensor, Tensor> reference, string what)
    {
        foreach (var method in new[] { LrpMethod.AttnLrp, LrpMethod.CpLrp, LrpMethod.Gradient })
        {
            using var scope = torch.NewDisposeScope();
            using var pass = generated(new LrpOptions { Method = method });
            var ri = new RuleInjection(method);
            using (torch.no_grad())
                Close.Relative(pass.Output, reference(ri, words), 1e-10, $"{what} [{method}] forward");
            torch.manual_seed(11);
            var weights = torch.randn(pass.Output.shape, ScalarType.Float64);
            var relevance = pass.Backward(weights)[0];
            var expected = RuleInjection.InputTimesGradient(words, x => reference(ri, x), weights);
            Assert.True(expected.abs().sum().item<double>() > 0, $"{what} [{method}]: the reference relevance is all zero");
            Close.Relative(relevance, expected, Tolerance, $"{what} [{method}] relevance at the word embeddings");
        }
    }
}
