using System;
using LrpGen.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>The autograd baselines: the forward of <see cref="LlamaForCausalLM"/> (mirroring
/// src/LrpGen.Models/Decoders/Blocks.cs and DecoderLayers.cs op for op), run on TorchSharp autograd with the
/// parameters frozen and the embeddings a leaf that requires grad. With <c>rules</c> the AttnLRP rules are injected
/// as LXT injects them (tests/LrpGen.Tests/Reference/RuleInjection.cs): RMSNorm's rsqrt detached, the identity rule on
/// SiLU by <c>y.detach() + (x*s - (x*s).detach())</c> with s = y/(x+1e-10), the uniform rule by gradient division
/// (gate*up halved, q and k divided by 4, v by 2). Without <c>rules</c> it is the plain input x gradient.
/// Every intermediate handle is disposed right after its last use, as Python's reference counting frees LXT's
/// (autograd keeps what it saved through its own references), so peak memory is what the graph needs.</summary>
public sealed class ReferenceLlama
{
    private readonly LlamaForCausalLM _model;
    private readonly long _heads, _kvHeads, _headDim;
    private readonly double _eps, _scaling;

    public ReferenceLlama(LlamaForCausalLM model, DecoderConfig config)
    {
        _model = model;
        _heads = config.Heads;
        _kvHeads = config.KvHeads;
        _headDim = config.HeadDim;
        _eps = config.RmsNormEps;
        _scaling = 1.0 / Math.Sqrt(config.HeadDim);
    }

    /// <summary>input x (modified) gradient at the embeddings, explaining sum(weights * logits).</summary>
    public Tensor Relevance(Tensor embeds, DecoderInputs inputs, Tensor weights, bool rules)
    {
        using var enable = torch.enable_grad();
        using var leaf = embeds.detach().requires_grad_(true);
        Tensor g;
        using (var logits = Logits(leaf, inputs, rules))
        {
            var grads = torch.autograd.grad(new[] { logits }, new[] { leaf }, new[] { weights });
            g = grads[0];
        }
        using (g)
        using (var x = leaf.detach())
            return x.mul(g);
    }

    /// <summary>The logits at the explained rows, [B, vocab].</summary>
    public Tensor Logits(Tensor embeds, DecoderInputs inputs, bool rules)
    {
        long B = embeds.shape[0], T = embeds.shape[1];
        var h = embeds.alias();
        foreach (var layer in _model.layers)
        {
            Tensor h1;
            using (var n1 = RmsNorm(h, layer.input_layernorm.weight, rules))
            using (var a = Attention(n1, layer.self_attn, inputs, rules))
                h1 = h.add(a);
            h.Dispose();
            using (var n2 = RmsNorm(h1, layer.post_attention_layernorm.weight, rules))
            using (var m = Mlp(n2, layer.mlp, rules))
                h = h1.add(m);
            h1.Dispose();
        }
        using var flat = h.reshape(B * T, -1);
        h.Dispose();
        using var picked = flat.index_select(0, inputs.Rows);
        using var normed = RmsNorm(picked, _model.norm.weight, rules);
        return nn.functional.linear(normed, _model.lm_head.weight);
    }

    /// <summary>weight * (x * rsqrt(mean(x^2) + eps)); the rules detach the rsqrt (identity on the normaliser).</summary>
    internal Tensor RmsNorm(Tensor x, Tensor weight, bool rules)
    {
        Tensor r;
        using (var squared = x.pow(2))
        using (var meanSquare = squared.mean(new long[] { -1 }, keepdim: true))
        using (var shifted = meanSquare.add(_eps))
        using (var rs = shifted.rsqrt())
            r = rules ? rs.detach() : rs.alias();
        using (r)
        using (var normalized = x.mul(r))
            return weight.mul(normalized);
    }

    internal Tensor Attention(Tensor x, DecoderAttention attn, DecoderInputs inputs, bool rules)
    {
        long B = x.shape[0], T = x.shape[1];
        Tensor q, k, v;
        using (var proj = nn.functional.linear(x, attn.q_proj.weight, attn.q_proj.bias))
        using (var view = proj.view(B, T, _heads, _headDim))
        using (var t = view.transpose(1, 2))
            q = Rope(t, inputs.Cos!, inputs.Sin!);
        using (var proj = nn.functional.linear(x, attn.k_proj.weight, attn.k_proj.bias))
        using (var view = proj.view(B, T, _kvHeads, _headDim))
        using (var t = view.transpose(1, 2))
            k = Rope(t, inputs.Cos!, inputs.Sin!);
        using (var proj = nn.functional.linear(x, attn.v_proj.weight, attn.v_proj.bias))
        using (var view = proj.view(B, T, _kvHeads, _headDim))
            v = view.transpose(1, 2);
        if (_heads != _kvHeads)
        {
            k = Replace(k, k.repeat_interleave(_heads / _kvHeads, dim: 1));
            v = Replace(v, v.repeat_interleave(_heads / _kvHeads, dim: 1));
        }
        if (rules)
        {
            q = Replace(q, DivideGradient(q, 4));
            k = Replace(k, DivideGradient(k, 4));
            v = Replace(v, DivideGradient(v, 2));
        }
        // One [B, H, T, T] temporary at a time besides the probabilities, as `q @ k^T * scaling + mask` in Python.
        Tensor scores;
        using (q)
        using (k)
        using (var kt = k.transpose(2, 3))
        using (var raw = q.matmul(kt))
            scores = raw.mul(_scaling);
        using (var scaled = scores)
            scores = scaled.add(inputs.Mask);
        Tensor probs;
        using (scores)
            probs = scores.softmax(-1, ScalarType.Float32);
        Tensor merged;
        using (probs)
        using (v)
        using (var context = probs.matmul(v))
        using (var t = context.transpose(1, 2))
            merged = t.reshape(B, T, _heads * _headDim);
        using (merged)
            return nn.functional.linear(merged, attn.o_proj.weight, attn.o_proj.bias);
    }

    /// <summary>x * cos + rotate_half(x) * sin.</summary>
    private Tensor Rope(Tensor x, Tensor cos, Tensor sin)
    {
        long half = _headDim / 2;
        using var a = x.mul(cos);
        Tensor rotated;
        using (var high = x.narrow(-1, half, half))
        using (var negated = high.neg())
        using (var low = x.narrow(-1, 0, half))
            rotated = torch.cat(new[] { negated, low }, -1);
        Tensor b;
        using (rotated)
            b = rotated.mul(sin);
        using (b)
            return a.add(b);
    }

    internal Tensor Mlp(Tensor x, DecoderMlp mlp, bool rules)
    {
        Tensor act;
        using (var g = nn.functional.linear(x, mlp.gate_proj!.weight, mlp.gate_proj!.bias))
        using (var y = nn.functional.silu(g))
        {
            if (rules)
            {
                // Identity rule: value silu(g), gradient silu(g) / (g + 1e-10).
                using var yd = y.detach();
                Tensor s;
                using (var gd = g.detach())
                using (var den = gd.add(1e-10))
                    s = yd.div(den);
                Tensor diff;
                using (s)
                using (var linear = g.mul(s))
                using (var linearDetached = linear.detach())
                    diff = linear.sub(linearDetached);
                using (diff)
                    act = yd.add(diff);
            }
            else act = y.alias();
        }
        Tensor p;
        using (act)
        using (var up = nn.functional.linear(x, mlp.up_proj!.weight, mlp.up_proj!.bias))
            p = act.mul(up);
        if (rules) p = Replace(p, DivideGradient(p, 2)); // uniform rule on the gate * up product
        using (p)
            return nn.functional.linear(p, mlp.down_proj!.weight, mlp.down_proj!.bias);
    }

    /// <summary>Value x, gradient divided by k (LXT's divide_gradient).</summary>
    private static Tensor DivideGradient(Tensor x, double k)
    {
        using var detached = x.detach();
        using var diff = x.sub(detached);
        using var divided = diff.div(k);
        return detached.add(divided);
    }

    private static Tensor Replace(Tensor old, Tensor replacement)
    {
        old.Dispose();
        return replacement;
    }
}
