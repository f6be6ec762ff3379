using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Tests.Reference;

/// <summary>The independent truth for the generated passes: the rules injected into TorchSharp autograd the way
/// LXT injects them into PyTorch (detach tricks that keep forward values exact and change only gradients).</summary>
public sealed class RuleInjection
{
    public RuleInjection(LrpMethod method) => Method = method;

    public LrpMethod Method { get; }

    private bool Rules => Method != LrpMethod.Gradient;

    /// <summary>Identity rule: value f(x), gradient f(x) / (x + 1e-10).</summary>
    public Tensor Identity(Func<Tensor, Tensor> f, Tensor x)
    {
        var y = f(x);
        if (!Rules) return y;
        var scale = y.detach().div(x.detach().add(1e-10));
        var linear = x.mul(scale);
        return y.detach().add(linear.sub(linear.detach()));
    }

    /// <summary>Value x, gradient divided by k (LXT's divide_gradient).</summary>
    public Tensor DivideGradient(Tensor x, double k)
    {
        if (!Rules) return x;
        return x.detach().add(x.sub(x.detach()).div(k));
    }

    /// <summary>Uniform rule on an element-wise product; CP-LRP detaches the gate.</summary>
    public Tensor GatedProduct(Tensor gate, Tensor other, bool cpForced = false)
    {
        if (!Rules) return gate.mul(other);
        if (Method == LrpMethod.CpLrp || cpForced) return gate.detach().mul(other);
        return DivideGradient(gate.mul(other), 2);
    }

    /// <summary>A product of two relevance-carrying factors (element-wise or matmul, given as op): uniform rule;
    /// where gates are constants (CP-LRP, or forced) and exactly one factor is a gate, the gate is detached.</summary>
    public Tensor Product(Tensor a, Tensor b, Func<Tensor, Tensor, Tensor> op, bool aIsGate, bool bIsGate, bool cpForced = false)
    {
        if (!Rules) return op(a, b);
        if ((Method == LrpMethod.CpLrp || cpForced) && aIsGate != bIsGate)
            return aIsGate ? op(a.detach(), b) : op(a, b.detach());
        return DivideGradient(op(a, b), 2);
    }

    /// <summary>Epsilon rule on a layer output: value y, gradient scaled by y / (y + eps sign y).</summary>
    public Tensor Epsilon(Tensor y, double eps)
    {
        if (!Rules) return y;
        var stab = y.detach().add(torch.where(y.detach().ge(0), 1.0, -1.0).to(y.dtype).mul(eps));
        var scaled = y.mul(y.detach().div(stab));
        return y.detach().add(scaled.sub(scaled.detach()));
    }

    /// <summary>Uniform rule on both attention matmuls, CP-LRP: q and k detached.</summary>
    public Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, double scale, bool cpForced = false)
    {
        if (Rules && (Method == LrpMethod.CpLrp || cpForced))
        {
            q = q.detach();
            k = k.detach();
        }
        else if (Rules)
        {
            q = DivideGradient(q, 4);
            k = DivideGradient(k, 4);
            v = DivideGradient(v, 2);
        }
        var scores = q.matmul(k.transpose(-2, -1)).mul(scale);
        if (mask is not null) scores = scores.add(mask);
        return scores.softmax(-1).matmul(v);
    }

    /// <summary>LayerNorm with the standard deviation detached (identity on 1/std).</summary>
    public Tensor LayerNorm(Tensor x, Tensor? weight, Tensor? bias, double eps)
    {
        var mean = x.mean(new long[] { -1 }, keepdim: true);
        var variance = x.sub(mean).square().mean(new long[] { -1 }, keepdim: true);
        var std = variance.add(eps).sqrt();
        if (Rules) std = std.detach();
        var y = x.sub(mean).div(std);
        if (weight is not null) y = y.mul(weight);
        if (bias is not null) y = y.add(bias);
        return y;
    }

    /// <summary>RMSNorm with the rsqrt detached.</summary>
    public Tensor RmsNorm(Tensor x, Tensor weight, double eps)
    {
        var r = x.pow(2).mean(new long[] { -1 }, keepdim: true).add(eps).rsqrt();
        if (Rules) r = r.detach();
        return x.mul(r).mul(weight);
    }

    /// <summary>Relevance of x for sum(w * f(x)): x * d/dx, float64 autograd.</summary>
    public static Tensor InputTimesGradient(Tensor x, Func<Tensor, Tensor> forward, Tensor weights)
    {
        using var grad = torch.enable_grad();
        var leaf = x.detach().clone().requires_grad_(true);
        var y = forward(leaf);
        y.mul(weights).sum().backward();
        return leaf.detach().mul(leaf.grad!).detach();
    }

    /// <summary>Relevance of several inputs at once.</summary>
    public static Tensor[] InputsTimesGradient(Tensor[] xs, Func<Tensor[], Tensor> forward, Tensor weights)
    {
        using var grad = torch.enable_grad();
        var leaves = Array.ConvertAll(xs, x => x.detach().clone().requires_grad_(true));
        var y = forward(leaves);
        y.mul(weights).sum().backward();
        return Array.ConvertAll(leaves, l => l.grad is null ? torch.zeros_like(l) : l.detach().mul(l.grad).detach());
    }
}
