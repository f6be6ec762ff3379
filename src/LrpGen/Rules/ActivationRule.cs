using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>The element-wise non-linearities the generator knows.</summary>
public enum Activation { Silu, Gelu, GeluTanh, Relu, Tanh, Sigmoid, Exp, Erf, Custom }

/// <summary>Identity rule on element-wise non-linearities: R_x = R_y, i.e. g_x = g_y * f(x) / (x + 1e-10).
/// For the gradient baseline the saved scale is f'(x) instead.</summary>
public static class ActivationRule
{
    /// <summary>LXT's stabiliser in the identity rule.</summary>
    public const double Epsilon = 1e-10;

    /// <summary>The one tensor the backward needs: y / (x + 1e-10) under the rules, f'(x) for the gradient.</summary>
    public static Tensor Scale(LrpContext ctx, Activation kind, Tensor x, Tensor y, Func<Tensor, Tensor>? custom = null)
    {
        if (ctx.RulesActive)
        {
            using var den = x.add(Epsilon);
            return y.div(den);
        }
        return Derivative(kind, x, y, custom);
    }

    public static Tensor Backward(Tensor g, Tensor scale) => g.mul(scale);

    /// <summary>The activation a TorchSharp activation module computes.</summary>
    public static Activation KindOf(TorchSharp.torch.nn.Module module) => module switch
    {
        TorchSharp.Modules.SiLU => Activation.Silu,
        TorchSharp.Modules.GELU gelu => gelu.approximate == TorchSharp.Modules.GELU.Approximate.tanh ? Activation.GeluTanh : Activation.Gelu,
        TorchSharp.Modules.ReLU => Activation.Relu,
        TorchSharp.Modules.Tanh => Activation.Tanh,
        TorchSharp.Modules.Sigmoid => Activation.Sigmoid,
        _ => throw new ArgumentException($"LrpGen: {module.GetType().Name} is not an element-wise activation module.", nameof(module)),
    };

    /// <summary>f'(x), closed form for the known activations, local autograd for a custom element-wise helper.</summary>
    public static Tensor Derivative(Activation kind, Tensor x, Tensor y, Func<Tensor, Tensor>? custom)
    {
        switch (kind)
        {
            case Activation.Silu:
            {
                using var s = x.sigmoid();
                using var oneMinus = torch.ones_like(s).sub_(s);
                using var inner = x.mul(oneMinus).add_(1.0);
                return s.mul(inner);
            }
            case Activation.Gelu:
            {
                // d/dx [x * Phi(x)] = Phi(x) + x * phi(x)
                using var cdf = x.div(Math.Sqrt(2.0)).erf_().add_(1.0).mul_(0.5);
                using var pdf = x.square().mul_(-0.5).exp_().mul_(1.0 / Math.Sqrt(2.0 * Math.PI));
                using var xpdf = x.mul(pdf);
                return cdf.add(xpdf);
            }
            case Activation.GeluTanh:
            {
                const double k = 0.044715;
                double c = Math.Sqrt(2.0 / Math.PI);
                using var x2 = x.square();
                using var cubic = x2.mul(k).add_(1.0);
                using var inner = x.mul(cubic).mul_(c);
                using var t = inner.tanh();
                using var t2 = t.square();
                using var sech2 = torch.ones_like(t).sub_(t2);
                using var dinner = x2.mul(3 * k).add_(1.0).mul_(c);
                using var left = t.add(1.0).mul_(0.5);
                using var right = x.mul(sech2).mul_(dinner).mul_(0.5);
                return left.add(right);
            }
            case Activation.Relu:
            {
                using var positive = x.gt(0);
                return positive.to(x.dtype);
            }
            case Activation.Tanh:
            {
                using var y2 = y.square();
                return torch.ones_like(y).sub_(y2);
            }
            case Activation.Sigmoid:
            {
                using var oneMinus = torch.ones_like(y).sub_(y);
                return y.mul(oneMinus);
            }
            case Activation.Exp:
                return y.alias();
            case Activation.Erf:
                // d/dx erf(x) = 2 / sqrt(pi) exp(-x^2)
                return x.square().neg_().exp_().mul_(2.0 / Math.Sqrt(Math.PI));
            case Activation.Custom:
                if (custom is null) throw new ArgumentNullException(nameof(custom));
                return LocalDerivative(custom, x);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>f'(x) of an element-wise function by one local vector-Jacobian product (gradient baseline only).</summary>
    private static Tensor LocalDerivative(Func<Tensor, Tensor> f, Tensor x)
    {
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope(); // the user's function may leave temporaries
        var xr = x.detach().requires_grad_(true);
        var y = f(xr);
        var ones = torch.ones_like(y);
        var grads = torch.autograd.grad(new[] { y }, new[] { xr }, new[] { ones });
        return grads[0].detach().MoveToOuterDisposeScope();
    }
}
