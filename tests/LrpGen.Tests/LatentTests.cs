using System;
using System.Collections.Generic;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Tests;

/// <summary>Points: latent relevance at submodule outputs and Linear inputs, seeds there (conditional
/// attribution), and interventions on forward values (neuron manipulation), against autograd references.</summary>
public class LatentTests
{
    private const ScalarType F64 = ScalarType.Float64;

    private static (BlockStack Model, Tensor X, Tensor W) Setup()
    {
        torch.manual_seed(31);
        var m = new BlockStack(8, 12, 3).to(F64);
        var x = torch.randn(2, 4, 8, F64);
        var w = torch.randn(2, 4, 8, F64);
        return (m, x, w);
    }

    /// <summary>Reference: the block stack with the rules injected, exposing every block output and the fc2 inputs.</summary>
    private static Tensor Forward(RuleInjection r, BlockStack m, Tensor x, List<Tensor> blockOutputs, List<Tensor> neurons,
        Func<int, Tensor, Tensor>? changeNeurons = null)
    {
        var h = x;
        for (int i = 0; i < 3; i++)
        {
            var b = m.blocks[i];
            var n = r.Identity(t => nn.functional.gelu(t), b.fc1.call(r.LayerNorm(h, b.ln.weight, b.ln.bias, 1e-5)));
            if (changeNeurons is not null) n = changeNeurons(i, n);
            neurons.Add(n);
            h = h + b.fc2.call(n);
            blockOutputs.Add(h);
        }
        return r.LayerNorm(h, m.final.weight, m.final.bias, 1e-5);
    }

    [Fact]
    public void LatentRelevanceAtBlockOutputsAndNeuronsMatchesAutograd()
    {
        var (m, x, w) = Setup();
        using var pass = m.LrpForward(x, new LrpOptions { Latents = new[] { "blocks.*", "blocks.1.fc2" } });
        var explanation = pass.Explain(w);
        Assert.Equal(new[] { "blocks.0", "blocks.1", "blocks.1.fc2", "blocks.2" }, new SortedSet<string>(explanation.Latents.Keys));

        using var grad = torch.enable_grad();
        var leaf = x.detach().clone().requires_grad_(true);
        var outputs = new List<Tensor>();
        var neurons = new List<Tensor>();
        var y = Forward(new RuleInjection(LrpMethod.AttnLrp), m, leaf, outputs, neurons);
        var targets = new[] { outputs[0], outputs[1], outputs[2], neurons[1] };
        var grads = torch.autograd.grad(new[] { y.mul(w).sum() }, targets);
        Close.Relative(explanation.Latents["blocks.0"], outputs[0].detach() * grads[0], 1e-6, "blocks.0");
        Close.Relative(explanation.Latents["blocks.1"], outputs[1].detach() * grads[1], 1e-6, "blocks.1");
        Close.Relative(explanation.Latents["blocks.2"], outputs[2].detach() * grads[2], 1e-6, "blocks.2");
        Close.Relative(explanation.Latents["blocks.1.fc2"], neurons[1].detach() * grads[3], 1e-6, "blocks.1.fc2 input");
    }

    [Fact]
    public void SeedAtALatentNeuronExplainsThatNeuron()
    {
        var (m, x, _) = Setup();
        using var pass = m.LrpForward(x);
        var seed = torch.zeros(2, 4, 12, F64);
        seed[0, 2, 5] = torch.tensor(1.0, F64);
        var explanation = pass.Explain(torch.zeros_like(pass.Output), new Dictionary<string, Tensor> { ["blocks.1.fc2"] = seed });

        using var grad = torch.enable_grad();
        var leaf = x.detach().clone().requires_grad_(true);
        var neurons = new List<Tensor>();
        Forward(new RuleInjection(LrpMethod.AttnLrp), m, leaf, new List<Tensor>(), neurons);
        var g = torch.autograd.grad(new[] { neurons[1].mul(seed).sum() }, new[] { leaf })[0];
        Close.Relative(explanation.Inputs[0], leaf.detach() * g, 1e-6, "conditional attribution");
    }

    [Fact]
    public void InterventionZeroesNeuronsInTheForward()
    {
        var (m, x, _) = Setup();
        Tensor Zero(Tensor n) { var z = n.clone(); z[TensorIndex.Ellipsis, TensorIndex.Slice(0, 6)] = torch.tensor(0.0, F64); return z; }
        using var pass = m.LrpForward(x, new LrpOptions { Interventions = new Dictionary<string, Func<Tensor, Tensor>> { ["blocks.2.fc2"] = Zero } });
        var expected = Forward(new RuleInjection(LrpMethod.AttnLrp), m, x, new List<Tensor>(), new List<Tensor>(), (i, n) => i == 2 ? Zero(n) : n);
        Close.Relative(pass.Output, expected, 1e-12, "manipulated forward");
        using var plain = m.call(x);
        Assert.True(plain.sub(pass.Output).abs().max().item<double>() > 1e-3, "the intervention changed nothing");
    }

    [Fact]
    public void UnknownPointsAreErrorsThatNameThem()
    {
        var (m, x, w) = Setup();
        var forward = Assert.Throws<ArgumentException>(() => m.LrpForward(x, new LrpOptions
        {
            Interventions = new Dictionary<string, Func<Tensor, Tensor>> { ["blocks.7.fc2"] = t => t },
        }));
        Assert.Contains("blocks.7.fc2", forward.Message);

        using var pass = m.LrpForward(x);
        var backward = Assert.Throws<ArgumentException>(() => pass.Explain(w, new Dictionary<string, Tensor> { ["blocks.0.nope"] = w }));
        Assert.Contains("blocks.0.nope", backward.Message);

        var shape = Assert.Throws<InvalidOperationException>(() => m.LrpForward(x, new LrpOptions
        {
            Interventions = new Dictionary<string, Func<Tensor, Tensor>> { ["blocks.0"] = t => t.sum(-1) },
        }));
        Assert.Contains("changed the shape", shape.Message);
    }
}
