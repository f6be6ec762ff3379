using System;
using LrpGen.Tests.Reference;
using LrpGen.Tests.Scenarios;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using static LrpGen.Tests.ScenarioHarness;

namespace LrpGen.Tests;

/// <summary>The constructs Hugging Face ports use that once compiled and silently lost relevance (einsum, tuple
/// values of selections, rule attributes on forward, null arguments, names the generator uses itself, dtype reads
/// after a tensor's last use): each against the autograd reference with the rules injected (float64, 1e-6).</summary>
public class HfPortsTests
{
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void EinsumAttention(LrpMethod method)
    {
        torch.manual_seed(21);
        var m = new EinsumAttention(6).to(F64);
        var x = Randn(2, 4, 6);
        var keep = torch.ones(2, 1, 4, ScalarType.Bool);
        keep[1, 0, 3] = torch.tensor(false);
        var w = Weights(2, 4, 6);
        ScenarioHarness.Check(o => m.LrpForward(x, keep, o), () => m.call(x, keep),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var bias = (keep.to(F64) - 1) * 1e9;
                return r.Attention(m.q_proj.call(v), m.k_proj.call(v), m.v_proj.call(v), bias, m.scale);
            }),
            method, nameof(EinsumAttention));
    }

    /// <summary>Only exact adjoints and eps-0 linears: the reference is the module's own forward under autograd.</summary>
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void Selections(LrpMethod method)
    {
        torch.manual_seed(22);
        var m = new Selections(5).to(F64);
        var x = Randn(2, 5, 5);
        var condition = torch.rand(2, 5, 5, F64).gt(0.5);
        var w = Weights(2, 5);
        ScenarioHarness.Check(o => m.LrpForward(x, condition, o), () => m.call(x, condition),
            r => ScenarioHarness.Ref(x, w, v => m.forward(v, condition)),
            method, nameof(Selections));
    }

    /// <summary>[IdentityNonlinearity] and [NormIdentity] on forward act on the whole module, [EpsilonRule] on forward
    /// on every Linear in it.</summary>
    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void RuleAttributesOnForward(LrpMethod method)
    {
        torch.manual_seed(23);
        var m = new ForwardRules(4).to(F64);
        using (torch.no_grad()) m.norm.weight.uniform_(0.5, 1.5);
        var x = Randn(3, 4);
        var w = Weights(3, 4);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                var n = r.RmsNorm(v, m.norm.weight, 1e-6);
                var u = r.Epsilon(m.up.call(n), 0.25);
                var a = r.Identity(t => t * torch.sigmoid(t * 1.702), u);
                return r.Epsilon(m.down.call(a), 0.25);
            }),
            method, nameof(RuleAttributesOnForward));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void GeneratorNamesInUserCode(LrpMethod method)
    {
        torch.manual_seed(24);
        var m = new Hygiene(4).to(F64);
        var x = Randn(2, 4);
        var ctx = Randn(2, 4);
        var tape = Randn(2, 4);
        var w = Weights(2, 4);
        ScenarioHarness.Check(o => m.LrpForward(x, ctx, tape, o), () => m.call(x, ctx, tape),
            r => RuleInjection.InputsTimesGradient(new[] { x, ctx }, v =>
            {
                var h = v[0];
                foreach (var layer in m.all) h = layer.call(h) + v[1] * 0.5;
                var product = h * v[1];
                if (r.Method != LrpMethod.Gradient) product = r.DivideGradient(product, 2);
                return product * 2 * tape;
            }, w),
            method, nameof(GeneratorNamesInUserCode));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void SdpaWithNullMask(LrpMethod method)
    {
        torch.manual_seed(25);
        var m = new SdpaNullMask(4).to(F64);
        var x = Randn(2, 3, 4);
        var w = Weights(2, 3, 4);
        var causal = torch.zeros(3, 3, F64).masked_fill(torch.ones(3, 3, ScalarType.Bool).triu(1), double.NegativeInfinity);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v => r.Attention(m.q.call(v), m.k.call(v), m.v.call(v), causal, 0.5)),
            method, nameof(SdpaWithNullMask));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void LoopCarriedParameterAndGate(LrpMethod method)
    {
        torch.manual_seed(26);
        var m = new LoopCarried(4).to(F64);
        var x = Randn(2, 4);
        var w = Weights(2, 4);
        ScenarioHarness.Check(o => m.LrpForward(x, o), () => m.call(x),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                foreach (var layer in m.layers) v = r.Identity(t => t.tanh(), layer.call(v));
                var h = v.softmax(-1);
                foreach (var layer in m.layers)
                {
                    var s = r.Identity(t => t.sigmoid(), layer.call(h));
                    // Gate-ness is decided once per loop body: h leaves the body as a product, so it is no gate in
                    // any iteration, and CP-LRP makes the sigmoid a constant in every one.
                    h = method == LrpMethod.Gradient ? s * h
                        : method == LrpMethod.CpLrp ? s.detach() * h
                        : r.DivideGradient(s * h, 2);
                }
                return h;
            }),
            method, nameof(LoopCarriedParameterAndGate));
    }

    [Theory, InlineData(LrpMethod.AttnLrp), InlineData(LrpMethod.CpLrp), InlineData(LrpMethod.Gradient)]
    public void StaticHelpersOfAnotherClass(LrpMethod method)
    {
        torch.manual_seed(27);
        var m = new SharedHelperAttention(8, 2).to(F64);
        var x = Randn(2, 3, 8);
        var keep = torch.ones(2, 1, 1, 3, ScalarType.Bool);
        keep[1, 0, 0, 2] = torch.tensor(false);
        var w = Weights(2, 3, 8);
        ScenarioHarness.Check(o => m.LrpForward(x, keep, o), () => m.call(x, keep),
            r => ScenarioHarness.Ref(x, w, v =>
            {
                Tensor Heads(Tensor t) => t.view(2, 3, 2, 4).transpose(1, 2);
                var bias = torch.zeros(2, 1, 1, 3, F64).masked_fill(keep.logical_not(), -1e9);
                var a = r.Attention(Heads(m.q_proj.call(v)), Heads(m.k_proj.call(v)), Heads(m.v_proj.call(v)), bias, 0.5);
                return m.o_proj.call(r.Identity(t => t * torch.sigmoid(t * 1.702), a.transpose(1, 2).flatten(2)));
            }),
            method, nameof(StaticHelpersOfAnotherClass));
    }
}
