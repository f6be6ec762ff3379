using System;
using System.Collections.Generic;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>A TorchSharp Sequential: its children are known only at run time, so each is dispatched here to the
/// rule of its type (default rules: epsilon 0 on Linear and Conv2d, identity on activations, norm identity on
/// LayerNorm); [LrpModule] children run their generated passes.</summary>
public static class SequentialRule
{
    internal sealed class Step
    {
        public object Module = null!;
        public Tensor? Saved;        // activation scale, LayerNorm input
        public long[]? InputShape;   // Conv2d
        public IDisposable? Tape;    // [LrpModule] child, nested Sequential
    }

    /// <summary>What one Sequential call keeps for the backward.</summary>
    public sealed class Tape : IDisposable
    {
        private readonly List<Step> StepsField = new();
        internal List<Step> Steps => StepsField;

        public void Dispose()
        {
            foreach (var s in Steps)
            {
                s.Saved?.Dispose();
                s.Tape?.Dispose();
            }
            Steps.Clear();
        }
    }

    public static Tensor Forward(LrpContext ctx, Sequential sequential, Tensor input, out Tape tape)
    {
        tape = new Tape();
        var x = input.alias();
        try
        {
            foreach (var (name, child) in sequential.named_children())
            {
                var step = new Step { Module = child };
                Tensor y;
                switch (child)
                {
                    case Linear linear:
                        y = linear.forward(x);
                        break;
                    case Conv2d conv:
                        step.InputShape = x.shape;
                        y = conv.forward(x);
                        break;
                    case SiLU or GELU or ReLU or Tanh or Sigmoid:
                        y = ((nn.Module<Tensor, Tensor>)child).forward(x);
                        step.Saved = ActivationRule.Scale(ctx, ActivationRule.KindOf((nn.Module)child), x, y);
                        break;
                    case LayerNorm norm:
                        y = norm.forward(x);
                        step.Saved = x.alias();
                        break;
                    case Dropout or Identity:
                        y = x.alias();
                        break;
                    case Sequential inner:
                        y = Forward(ctx, inner, x, out var innerTape);
                        step.Tape = innerTape;
                        break;
                    case ILrpSequentialItem item:
                        y = item.LrpForwardItem(ctx, x, out var itemTape);
                        step.Tape = itemTape;
                        break;
                    default:
                        throw new NotSupportedException(
                            $"LrpGen: the Sequential child '{name}' ({child.GetType().Name}) has no LRP rule. Supported: Linear, Conv2d, " +
                            "SiLU, GELU, ReLU, Tanh, Sigmoid, LayerNorm, Dropout, Identity, Sequential and [LrpModule] modules with one input.");
                }
                tape.Steps.Add(step);
                x.Dispose();
                x = y;
            }
            return x;
        }
        catch
        {
            x.Dispose();
            tape.Dispose();
            throw;
        }
    }

    public static Tensor? Backward(LrpContext ctx, Tape tape, Tensor gOutput)
    {
        Tensor? g = gOutput.alias();
        for (int i = tape.Steps.Count - 1; i >= 0 && g is not null; i--)
        {
            var step = tape.Steps[i];
            Tensor? next = step.Module switch
            {
                Linear linear => LinearRule.Backward(ctx, g, linear.weight!, null, 0),
                Conv2d conv => ConvRule.Conv2dBackward(ctx, g, conv, step.InputShape!, null, 0),
                SiLU or GELU or ReLU or Tanh or Sigmoid => ActivationRule.Backward(g, step.Saved!),
                LayerNorm norm => LayerNormRule.Backward(ctx, g, step.Saved!, norm.weight, norm.eps, norm.normalized_shape.Length),
                Dropout or Identity => g.alias(),
                Sequential => Backward(ctx, (Tape)step.Tape!, g),
                ILrpSequentialItem item => item.LrpBackwardItem(ctx, step.Tape!, g),
                _ => throw new InvalidOperationException("unreachable: the forward accepted this child"),
            };
            g.Dispose();
            g = next;
        }
        return g;
    }
}
