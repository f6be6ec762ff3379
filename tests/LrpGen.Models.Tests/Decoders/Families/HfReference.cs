using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Families;

/// <summary>The families' forward written from Hugging Face's modeling code (eager attention, float32 norms and
/// softmax as transformers computes them), in plain TorchSharp on the checkpoint tensors by their Hugging Face
/// names, with the AttnLRP rules injected through <see cref="RuleInjection"/> (none for <see cref="LrpMethod.Gradient"/>).
/// It shares no code with the library's modules.</summary>
internal static class HfReference
{
    /// <summary>Logits at the last position [B, vocab] of input embeddings [B, T, hidden] (float64).</summary>
    public static Tensor Forward(TinyFamily f, RuleInjection r, Tensor embeds)
    {
        var w = f.Weights;
        long B = embeds.shape[0], T = embeds.shape[1];
        var positions = torch.arange(T, dtype: ScalarType.Int64);
        var h = f.Gemma ? embeds * torch.tensor(Math.Sqrt(f.Hidden), embeds.dtype) : embeds;
        for (int l = 0; l < f.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            bool sliding = f.Window > 0 && f.Sliding[l];
            var (cos, sin) = Rope(f, positions, sliding && f.LocalTheta > 0);
            if (f.Gemma)
            {
                var a = Attention(f, r, Norm(f, r, h, w[p + "input_layernorm.weight"]), p, cos, sin, sliding);
                h = h + Norm(f, r, a, w[p + "post_attention_layernorm.weight"]);
                var m = Mlp(f, r, Norm(f, r, h, w[p + "pre_feedforward_layernorm.weight"]), p);
                h = h + Norm(f, r, m, w[p + "post_feedforward_layernorm.weight"]);
            }
            else
            {
                h = h + Attention(f, r, Norm(f, r, h, w[p + "input_layernorm.weight"]), p, cos, sin, sliding);
                h = h + Mlp(f, r, Norm(f, r, h, w[p + "post_attention_layernorm.weight"]), p);
            }
        }
        var last = h.select(1, T - 1);
        var head = f.Tied ? w["model.embed_tokens.weight"] : w["lm_head.weight"];
        var logits = nn.functional.linear(Norm(f, r, last, w["model.norm.weight"]), head);
        if (f.FinalSoftcap > 0)
            logits = r.Identity(x => (x / f.FinalSoftcap).tanh() * f.FinalSoftcap, logits);
        return logits;
    }

    /// <summary>LlamaRMSNorm: weight * (x_f32 * rsqrt(mean(x_f32^2) + eps)).to(dtype); Gemma's: ((x_f32 * rsqrt) *
    /// (1 + w_f32)).to(dtype). The rsqrt is detached under the rules (identity rule on the normaliser).</summary>
    private static Tensor Norm(TinyFamily f, RuleInjection r, Tensor x, Tensor weight)
    {
        var x32 = x.to(ScalarType.Float32);
        var scale = x32.pow(2).mean(new long[] { -1 }, keepdim: true).add(f.Eps).rsqrt();
        if (r.Method != LrpMethod.Gradient) scale = scale.detach();
        var normed = x32 * scale;
        return f.Gemma ? (normed * (weight.to(ScalarType.Float32) + 1)).to(x.dtype) : weight * normed.to(x.dtype);
    }

    /// <summary>cos and sin [T, D] as the rotary embedding of the family computes them (float32).</summary>
    private static (Tensor Cos, Tensor Sin) Rope(TinyFamily f, Tensor positions, bool local)
    {
        var exponents = torch.arange(0, f.HeadDim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / f.HeadDim;
        double theta = local ? f.LocalTheta : f.Theta;
        var basePowers = torch.pow(torch.tensor((float)theta), exponents);
        Tensor inv;
        double attention = 1;
        if (!local && f.LongFactor is not null)
        {
            // longrope: the long factors once the sequence reaches past the original context.
            long length = positions.max().item<long>() + 1;
            var factors = torch.tensor(length > f.OriginalPositions ? f.LongFactor : f.ShortFactor!, ScalarType.Float32);
            inv = 1.0 / (factors * basePowers);
            attention = f.LongRopeAttentionFactor;
        }
        else
            inv = (1.0 / basePowers) / (local ? 1 : f.LinearFactor);
        var freqs = positions.to(ScalarType.Float32).unsqueeze(1).matmul(inv.unsqueeze(0));
        var emb = torch.cat(new[] { freqs, freqs }, -1);
        return ((emb.cos() * attention).to(ScalarType.Float64), (emb.sin() * attention).to(ScalarType.Float64));
    }

    private static Tensor RotateHalf(Tensor x)
    {
        long half = x.shape[^1] / 2;
        return torch.cat(new[] { -x[TensorIndex.Ellipsis, TensorIndex.Slice(half)], x[TensorIndex.Ellipsis, TensorIndex.Slice(null, half)] }, -1);
    }

    /// <summary>repeat_kv: [B, kv, T, D] to [B, kv * n, T, D], each kv head n times in a row.</summary>
    private static Tensor RepeatKv(Tensor x, long n)
    {
        long B = x.shape[0], kv = x.shape[1], T = x.shape[2], D = x.shape[3];
        return n == 1 ? x : x.unsqueeze(2).expand(B, kv, n, T, D).reshape(B, kv * n, T, D);
    }

    private static Tensor Attention(TinyFamily f, RuleInjection r, Tensor x, string p, Tensor cos, Tensor sin, bool sliding)
    {
        var w = f.Weights;
        long B = x.shape[0], T = x.shape[1], D = f.HeadDim, q = f.Heads * D, kv = f.KvHeads * D;
        Tensor Project(string name) => nn.functional.linear(x, w[p + $"self_attn.{name}.weight"], w.GetValueOrDefault(p + $"self_attn.{name}.bias"));
        Tensor qs, ks, vs;
        if (f.FusedProjections)
        {
            var qkv = Project("qkv_proj");
            qs = qkv[TensorIndex.Ellipsis, TensorIndex.Slice(null, q)];
            ks = qkv[TensorIndex.Ellipsis, TensorIndex.Slice(q, q + kv)];
            vs = qkv[TensorIndex.Ellipsis, TensorIndex.Slice(q + kv)];
        }
        else
        {
            qs = Project("q_proj");
            ks = Project("k_proj");
            vs = Project("v_proj");
        }
        qs = qs.view(B, T, f.Heads, D).transpose(1, 2);
        ks = ks.view(B, T, f.KvHeads, D).transpose(1, 2);
        vs = vs.view(B, T, f.KvHeads, D).transpose(1, 2);
        if (f.QkNorm)
        {
            qs = Norm(f, r, qs, w[p + "self_attn.q_norm.weight"]);
            ks = Norm(f, r, ks, w[p + "self_attn.k_norm.weight"]);
        }
        qs = qs * cos + RotateHalf(qs) * sin;
        ks = ks * cos + RotateHalf(ks) * sin;
        ks = RepeatKv(ks, f.Heads / f.KvHeads);
        vs = RepeatKv(vs, f.Heads / f.KvHeads);
        double scaling = Math.Pow(f.QueryPreAttnScalar > 0 ? f.QueryPreAttnScalar : D, -0.5);
        var scores = r.Product(qs, ks.transpose(2, 3), (a, b) => a.matmul(b), aIsGate: false, bIsGate: false) * scaling;
        if (f.AttentionSoftcap > 0)
            scores = r.Identity(s => (s / f.AttentionSoftcap).tanh() * f.AttentionSoftcap, scores);
        // Causal (kv <= q) and, in sliding layers, kv > q - window: the dtype's minimum elsewhere.
        var qi = torch.arange(T).unsqueeze(1);
        var ki = torch.arange(T).unsqueeze(0);
        var allowed = ki.le(qi);
        if (sliding) allowed = allowed.logical_and(ki.gt(qi - f.Window));
        var mask = torch.zeros(T, T, ScalarType.Float64).masked_fill(allowed.logical_not(), double.MinValue);
        var probs = (scores + mask).softmax(-1, ScalarType.Float32).to(ScalarType.Float64);
        var context = r.Product(probs, vs, (a, b) => a.matmul(b), aIsGate: true, bIsGate: false);
        return nn.functional.linear(context.transpose(1, 2).reshape(B, T, q), w[p + "self_attn.o_proj.weight"]);
    }

    /// <summary>act(gate(x)) * up(x) then down: identity rule on the activation, uniform (a gate) on the product.</summary>
    private static Tensor Gated(TinyFamily f, RuleInjection r, Tensor x, Tensor gateWeight, Tensor upWeight, Tensor downWeight)
    {
        var gate = nn.functional.linear(x, gateWeight);
        var activated = r.Identity(g => f.Gemma ? nn.functional.gelu(g, TorchSharp.Modules.GELU.Approximate.tanh) : nn.functional.silu(g), gate);
        return nn.functional.linear(r.GatedProduct(activated, nn.functional.linear(x, upWeight)), downWeight);
    }

    private static Tensor Mlp(TinyFamily f, RuleInjection r, Tensor x, string p)
    {
        var w = f.Weights;
        if (f.Experts == 0)
        {
            if (!f.FusedProjections)
                return Gated(f, r, x, w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"], w[p + "mlp.down_proj.weight"]);
            // Phi-3: gate_up_proj's rows are the gate's, then the up projection's.
            var gateUp = w[p + "mlp.gate_up_proj.weight"];
            long i = f.Intermediate;
            return Gated(f, r, x, gateUp.narrow(0, 0, i), gateUp.narrow(0, i, i), w[p + "mlp.down_proj.weight"]);
        }
        // Router: softmax in float32, top-k, renormalised where the family does; the plain gradient throughout.
        string moe = f.MixtralNames ? p + "block_sparse_moe." : p + "mlp.";
        long B = x.shape[0], T = x.shape[1];
        var tokens = x.reshape(B * T, f.Hidden);
        var probs = nn.functional.linear(tokens, w[moe + "gate.weight"]).softmax(-1, ScalarType.Float32);
        var (topValues, topIndices) = probs.topk(f.TopK, -1);
        if (f.NormTopk) topValues = topValues / topValues.sum(-1, keepdim: true);
        var routing = torch.zeros_like(probs).scatter(-1, topIndices, topValues).to(x.dtype);
        var output = torch.zeros_like(tokens);
        for (int e = 0; e < f.Experts; e++)
        {
            string xp = $"{moe}experts.{e}.";
            var expert = f.MixtralNames
                ? Gated(f, r, tokens, w[xp + "w1.weight"], w[xp + "w3.weight"], w[xp + "w2.weight"])
                : Gated(f, r, tokens, w[xp + "gate_proj.weight"], w[xp + "up_proj.weight"], w[xp + "down_proj.weight"]);
            output = output + r.Product(routing.narrow(-1, e, 1), expert, (a, b) => a * b, aIsGate: false, bIsGate: false);
        }
        return output.reshape(B, T, f.Hidden);
    }
}
