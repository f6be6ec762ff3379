using System;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using static LrpGen.Tests.ScenarioHarness;

namespace LrpGen.Tests;

/// <summary>Every scenario, every method: the generated relevance equals the autograd reference with the rules
/// injected, in float64, to 1e-6 relative.</summary>
public class ScenarioTests
{
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void LinearChain(LrpMethod method)
    {
        torch.manual_seed(1);
        var m = new LinearChain(6, 10, 4, bias: true).to(F64);
        var x = Randn(3, 6);
        var w = Weights(3, 4);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
                m.fc3.call(r.Identity(t => nn.functional.relu(t), m.fc2.call(r.Identity(t => m.act.call(t), m.fc1.call(v)))))),
            method, nameof(LinearChain));
    }

    internal static Tensor ResidualRef(RuleInjection r, ResidualBlock b, Tensor x) =>
        x + b.fc2.call(r.Identity(t => nn.functional.gelu(t), b.fc1.call(r.LayerNorm(x, b.ln.weight, b.ln.bias, 1e-5))));

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void Residual(LrpMethod method)
    {
        torch.manual_seed(2);
        var m = new ResidualBlock(8, 16).to(F64);
        var x = Randn(2, 3, 8);
        var w = Weights(2, 3, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v => ResidualRef(r, m, v)), method, nameof(Residual));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void MaskedAttention(LrpMethod method)
    {
        torch.manual_seed(3);
        var m = new MaskedAttention(8, 2).to(F64);
        var x = Randn(2, 5, 8);
        var mask = torch.zeros(2, 1, 1, 5, F64);
        mask[0, 0, 0, 4] = torch.tensor(-1e9, F64);
        var w = Weights(2, 5, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, mask, o), () => m.call(x, mask),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                long B = 2, T = 5;
                Tensor Heads(Tensor t) => t.view(B, T, m.heads, m.headDim).transpose(1, 2);
                var a = r.Attention(Heads(m.q_proj.call(v)), Heads(m.k_proj.call(v)), Heads(m.v_proj.call(v)), mask, 1 / Math.Sqrt(m.headDim));
                return m.o_proj.call(a.transpose(1, 2).reshape(B, T, 8));
            }),
            method, nameof(MaskedAttention));
    }

    internal static Tensor GqaRef(RuleInjection r, GqaAttention m, Tensor v, bool cpForced = false)
    {
        long B = v.shape[0], T = v.shape[1], groups = m.heads / m.kvHeads;
        var q = m.q_proj.call(v).view(B, T, m.heads, m.headDim).transpose(1, 2);
        var k = m.k_proj.call(v).view(B, T, m.kvHeads, m.headDim).transpose(1, 2).repeat_interleave(groups, dim: 1);
        var vv = m.v_proj.call(v).view(B, T, m.kvHeads, m.headDim).transpose(1, 2).repeat_interleave(groups, dim: 1);
        var causal = torch.ones(T, T, dtype: v.dtype).triu(1) * -1e9;
        var a = r.Attention(q, k, vv, causal, 1 / Math.Sqrt(m.headDim), cpForced);
        return m.o_proj.call(a.transpose(1, 2).reshape(B, T, -1));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void GqaAttention(LrpMethod method)
    {
        torch.manual_seed(4);
        var m = new GqaAttention(16, 4, 2).to(F64);
        var x = Randn(1, 6, 16);
        var w = Weights(1, 6, 16);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v => GqaRef(r, m, v)), method, nameof(GqaAttention));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void Rope(LrpMethod method)
    {
        torch.manual_seed(5);
        var m = new RopeAttention(8, 2).to(F64);
        var x = Randn(1, 4, 8);
        var angles = torch.arange(4, dtype: F64).unsqueeze(1) * torch.tensor(new[] { 1.0, 0.1, 1.0, 0.1 }, F64);
        var cos = angles.cos();
        var sin = angles.sin();
        var w = Weights(1, 4, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, cos, sin, o), () => m.call(x, cos, sin),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                Tensor Heads(Tensor t) => t.view(1, 4, 2, 4).transpose(1, 2);
                Tensor Rot(Tensor t) => t * cos + torch.cat(new[] { -t.narrow(-1, 2, 2), t.narrow(-1, 0, 2) }, -1) * sin;
                var a = r.Attention(Rot(Heads(m.q_proj.call(v))), Rot(Heads(m.k_proj.call(v))), Heads(m.v_proj.call(v)), null, 1 / Math.Sqrt(4));
                return a.transpose(1, 2).flatten(2);
            }),
            method, nameof(Rope));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void Norms(LrpMethod method)
    {
        torch.manual_seed(6);
        var m = new Norms(8).to(F64);
        var x = Randn(2, 3, 8);
        var w = Weights(2, 3, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var h = m.fc.call(r.LayerNorm(v, m.ln.weight, m.ln.bias, 1e-5));
                h = r.LayerNorm(h, m.lnWeight, m.lnBias, 1e-5);
                return r.RmsNorm(h, m.rmsWeight, Scenarios.Norms.RmsEps);
            }),
            method, nameof(Norms));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void BlockStack(LrpMethod method)
    {
        torch.manual_seed(8);
        var m = new BlockStack(8, 12, 3).to(F64);
        var x = Randn(2, 4, 8);
        var w = Weights(2, 4, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var h = v;
                foreach (var b in m.blocks) h = ResidualRef(r, b, h);
                return r.LayerNorm(h, m.final.weight, m.final.bias, 1e-5);
            }),
            method, nameof(BlockStack));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void TinyLm(LrpMethod method)
    {
        torch.manual_seed(9);
        var m = new TinyLm(20, 16, 2).to(F64);
        var ids = torch.tensor(new long[,] { { 3, 1, 4, 1, 5, 9 }, { 2, 6, 5, 3, 5, 8 } });
        var w = Weights(2, 20);
        ScenarioHarness.Check(o => m.LrpForward(ids, o), () => m.call(ids),
            r =>
            {
                var e = m.tokens.call(ids);
                var rel = RuleInjection.InputTimesGradient(e, emb =>
                {
                    var h = emb + m.positions.call(torch.arange(6).unsqueeze(0));
                    for (int i = 0; i < 2; i++)
                    {
                        h = h + GqaRef(r, m.attentions[i], h);
                        h = ResidualRef(r, m.mlps[i], h);
                    }
                    return m.head.call(r.LayerNorm(h, m.norm.weight, m.norm.bias, 1e-5))[TensorIndex.Colon, -1];
                }, w);
                return new[] { rel.sum(-1) };
            },
            method, nameof(TinyLm));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void HelperRules(LrpMethod method)
    {
        torch.manual_seed(10);
        var m = new HelperRules(6, 10).to(F64);
        var x = Randn(4, 6);
        var w = Weights(4, 6);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var h = r.Epsilon(m.fc1.call(v), 0.01);
                h = r.Identity(Scenarios.HelperRules.GeluNew, h);
                h = r.Epsilon(m.fc2.call(h), 0.1);
                return r.Epsilon(m.fc3.call(h), 0.1);
            }),
            method, nameof(HelperRules));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void Erf(LrpMethod method)
    {
        torch.manual_seed(12);
        var m = new ErfMlp(6, 10).to(F64);
        var x = Randn(3, 6);
        var w = Weights(3, 6);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v => m.fc2.call(r.Identity(t => t.erf(), r.Identity(t => t.erf(), m.fc1.call(v))))),
            method, nameof(ErfMlp));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void CpAttention(LrpMethod method)
    {
        torch.manual_seed(11);
        var m = new CpAttention(8, 2).to(F64);
        var x = Randn(2, 3, 8);
        var w = Weights(2, 3, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var qkv = m.qkv.call(v).view(2, 3, 3, 2, 4).permute(2, 0, 3, 1, 4);
                var a = r.Attention(qkv[0], qkv[1], qkv[2], null, 1 / Math.Sqrt(4), cpForced: true);
                return m.proj.call(a.permute(0, 2, 1, 3).reshape(2, 3, 8));
            }),
            method, nameof(CpAttention));
    }

    [Theory]
    [InlineData(LrpMethod.AttnLrp, true, true)]
    [InlineData(LrpMethod.CpLrp, true, false)]
    [InlineData(LrpMethod.Gradient, false, true)]
    [InlineData(LrpMethod.AttnLrp, false, false)]
    public void Conditionals(LrpMethod method, bool useGate, bool residual)
    {
        torch.manual_seed(12);
        var m = new Conditionals(6, 3, useGate, residual, 0.5).to(F64);
        var x = Randn(2, 6);
        var w = Weights(2, 6);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var h = v;
                for (int i = 0; i < 3; i++)
                {
                    var y = r.Identity(t => t.tanh(), m.layers[i].call(h));
                    if (i % 2 == 1) y = y * 0.5;
                    h = residual ? h + y : y;
                }
                return useGate ? r.GatedProduct(r.Identity(t => t.sigmoid(), m.gate.call(v)), h) : -h;
            }),
            method, nameof(Conditionals));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void CrossAttention(LrpMethod method)
    {
        torch.manual_seed(13);
        var m = new CrossAttention(8).to(F64);
        var x = Randn(2, 3, 8);
        var ctx = Randn(2, 5, 8);
        var padding = torch.zeros(2, 1, 5, ScalarType.Bool);
        padding[1, 0, 4] = torch.tensor(true);
        var w = Weights(2, 3, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, ctx, padding, o), () => m.call(x, ctx, padding),
            r => RuleInjection.InputsTimesGradient(new[] { x, ctx }, v =>
            {
                var q = m.q_proj.call(r.LayerNorm(v[0], m.norm.weight, m.norm.bias, 1e-5));
                var kv = m.kv_proj.call(v[1]);
                var k = kv.narrow(-1, 0, 8);
                var vv = kv.narrow(-1, 8, 8);
                var bias = torch.zeros(2, 1, 5, F64).masked_fill(padding, -1e9);
                return v[0] + m.out_proj.call(r.Attention(q, k, vv, bias, 1 / Math.Sqrt(8)));
            }, w),
            method, nameof(CrossAttention));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void Sdpa(LrpMethod method)
    {
        torch.manual_seed(14);
        var m = new SdpaAttention(8, 2).to(F64);
        var x = Randn(2, 4, 8);
        var keep = torch.ones(2, 1, 1, 4, ScalarType.Bool);
        keep[1, 0, 0, 3] = torch.tensor(false);
        var w = Weights(2, 4, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, keep, o), () => m.call(x, keep),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var qkv = m.qkv.call(v).view(2, 4, 3, 2, 4).transpose(1, 3);
                Tensor Part(int i) => qkv.select(2, i);
                var padBias = torch.zeros(2, 1, 1, 4, F64).masked_fill(keep.logical_not(), double.NegativeInfinity);
                var causal = torch.ones(4, 4, ScalarType.Bool).triu(1);
                var causalBias = torch.zeros(4, 4, F64).masked_fill(causal, double.NegativeInfinity);
                var a = r.Attention(Part(0), Part(1), Part(2), padBias, 0.5) + r.Attention(Part(0), Part(1), Part(2), causalBias, 0.5);
                return a.transpose(1, 2).flatten(2);
            }),
            method, nameof(Sdpa), forwardTolerance: 1e-12);
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void ConvStack(LrpMethod method)
    {
        torch.manual_seed(15);
        var m = new ConvStack().to(F64);
        m.eval();
        var x = Randn(2, 3, 8, 8);
        var w = Weights(2, 5);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var t = m.patch.call(v).flatten(2).transpose(1, 2);
                var fc = (Linear)m.head[0];
                var ln = (LayerNorm)m.head[2];
                var outLayer = (Linear)m.head[5];
                t = r.Identity(u => nn.functional.gelu(u), fc.call(t));
                t = r.LayerNorm(t, ln.weight, ln.bias, 1e-5);
                t = m.mlp.down_proj.call(r.GatedProduct(r.Identity(u => nn.functional.silu(u), m.mlp.gate_proj.call(t)), m.mlp.up_proj.call(t)));
                return outLayer.call(t).mean(new long[] { 1 });
            }),
            method, nameof(ConvStack));
    }
}
