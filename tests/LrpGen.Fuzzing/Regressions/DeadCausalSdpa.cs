using System;
using System.Linq;
using LrpGen;
using LrpGen.Tests.Reference;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fuzz.DeadCausalSdpa;

[LrpModule, CpLrp]
public partial class DeadCausalSdpa : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly LayerNorm ln5;

    public DeadCausalSdpa() : base("DeadCausalSdpa")
    {
        ln5 = nn.LayerNorm(6);
        using (torch.no_grad()) { ln5.weight!.uniform_(0.5, 1.5); ln5.bias!.uniform_(-0.5, 0.5); }
        RegisterComponents();
    }

    public override Tensor forward([NoRelevance] Tensor mask2, Tensor x0)
    {
        var h3 = x0.masked_fill(mask2, 0.0);
        var h4 = torch.cat(new[] { x0, h3 }, -2);
        var h6 = ln5.call(h3);
        var h7 = nn.functional.scaled_dot_product_attention(h6, x0, h3, is_casual: true);
        var h8 = torch.nn.functional.silu(h4);
        return h8;
    }
}

internal static class DeadCausalSdpaRef
{
    internal static Tensor Forward(RuleInjection rr__, DeadCausalSdpa mm__, Tensor mask2, Tensor x0)
    {
        var h3 = x0.masked_fill(mask2, 0.0);
        var h4 = torch.cat(new[] { x0, h3 }, -2);
        var h6 = rr__.LayerNorm(h3, mm__.ln5.weight, mm__.ln5.bias, 1e-5);
        var h7 = rr__.Product(((rr__.Product(h6, x0.transpose(-2, -1), (p__, q__) => p__.matmul(q__), false, false, true) * 0.4082482904638631).masked_fill(torch.ones(3, 3, ScalarType.Bool).triu(1), double.NegativeInfinity)).softmax(-1), h3, (p__, q__) => p__.matmul(q__), true, false, true);
        var h8 = rr__.Identity(u__ => torch.nn.functional.silu(u__), h4);
        return h8;
    }
}

public sealed class Case : LrpGen.Fuzzing.IFuzzCase
{
    private readonly DeadCausalSdpa mm__;
    private readonly Tensor mask2__, x0__;

    public Case()
    {
        torch.manual_seed(123499);
        mm__ = new DeadCausalSdpa();
        mm__.to(ScalarType.Float64);
        mm__.eval();
        mask2__ = torch.rand(new long[] { 1, 1, 6 }, ScalarType.Float64).gt(0.3);
        x0__ = torch.randn(new long[] { 2, 3, 6 }, ScalarType.Float64);
    }

    public Tensor[] RelevanceInputs => new[] { x0__ };

    public LrpPass Generated(LrpOptions options) => mm__.LrpForward(mask2__, x0__, options);

    public Tensor Plain() => mm__.call(mask2__, x0__);

    public Tensor Reference(RuleInjection rr__, Tensor[] xs__) => DeadCausalSdpaRef.Forward(rr__, mm__, mask2__, xs__[0]);

    public void Dispose()
    {
        mm__.Dispose();
        mask2__.Dispose();
        x0__.Dispose();
    }
}
