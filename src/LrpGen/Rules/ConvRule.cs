using static TorchSharp.torch;

namespace LrpGen.Rules;

/// <summary>Epsilon rule for Conv2d in gradient form: the backward of a convolution with respect to its input is
/// the transposed convolution with the same weight.</summary>
public static class ConvRule
{
    /// <summary>The rule resolved for this pass (<see cref="LrpContext.LayerRule"/>): gamma or epsilon.</summary>
    public static Tensor Conv2dBackward(LrpContext ctx, Tensor g, LrpLayerRule rule, TorchSharp.Modules.Conv2d conv, long[] inputShape, Tensor? input, Tensor? output) =>
        rule.Gamma is double gamma
            ? GammaRule.Conv2dBackward(ctx, g, input ?? throw new System.ArgumentNullException(nameof(input), "The gamma rule needs the layer input."),
                conv, output ?? throw new System.ArgumentNullException(nameof(output), "The gamma rule needs the layer output."), gamma)
            : Conv2dBackward(ctx, g, conv, inputShape, output, rule.Epsilon);

    public static Tensor Conv2dBackward(LrpContext ctx, Tensor g, TorchSharp.Modules.Conv2d conv, long[] inputShape, Tensor? output, double epsilon)
    {
        Tensor? scaled = null;
        try
        {
            if (epsilon > 0 && ctx.RulesActive)
            {
                if (output is null) throw new System.ArgumentNullException(nameof(output), "The epsilon rule with eps > 0 needs the layer output.");
                using var stab = LinearRule.Stabilize(output, epsilon);
                scaled = g.mul(output).div_(stab);
            }
            return TransposedConv(scaled ?? g, conv, inputShape);
        }
        finally
        {
            scaled?.Dispose();
        }
    }

    /// <summary>W^T m for a Conv2d: conv_transpose2d with the output padding that restores the input size. A gradient
    /// with the leading seed dimension ([S, N, C, H, W]) is convolved as a batch of S * N images (a view).</summary>
    public static Tensor TransposedConv(Tensor m, TorchSharp.Modules.Conv2d conv, long[] inputShape, Tensor? weight = null)
    {
        if (m.dim() == inputShape.Length + 1)
        {
            long seeds = m.shape[0];
            using var batch = m.flatten(0, 1);
            using var images = TransposedConv(batch, conv, inputShape, weight);
            var shape = new long[images.dim() + 1];
            shape[0] = seeds;
            shape[1] = images.shape[0] / seeds;
            for (int i = 1; i < images.dim(); i++) shape[i + 1] = images.shape[i];
            return images.reshape(shape);
        }
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros)
            throw new System.NotSupportedException($"LrpGen: Conv2d with padding mode {conv.padding_mode} is not supported (only zeros).");
        var w = weight ?? conv.weight!;
        var stride = conv.stride;
        var padding = Padding(conv, inputShape);
        var dilation = conv.dilation;
        var kernel = conv.kernel_size;
        var outputPadding = new long[2];
        for (int i = 0; i < 2; i++)
        {
            long produced = (m.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + 1;
            outputPadding[i] = inputShape[2 + i] - produced;
        }
        using var typed = w.dtype == m.dtype ? w.alias() : w.to(m.dtype);
        return TorchSharp.torch.nn.functional.conv_transpose2d(m, typed, null, stride, padding, outputPadding, dilation, conv.groups);
    }

    private static long[] Padding(TorchSharp.Modules.Conv2d conv, long[] inputShape)
    {
        if (conv.padding_type is TorchSharp.Padding.Same)
        {
            // 'same' pads symmetrically here only when the total padding is even.
            var p = new long[2];
            for (int i = 0; i < 2; i++)
            {
                long total = conv.dilation[i] * (conv.kernel_size[i] - 1);
                if (total % 2 != 0) throw new System.NotSupportedException("LrpGen: Conv2d padding 'same' with an even kernel is not supported.");
                p[i] = total / 2;
            }
            return p;
        }
        return conv.padding ?? new long[2];
    }
}
