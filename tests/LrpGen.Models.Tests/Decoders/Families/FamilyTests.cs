using System;
using System.Collections.Generic;
using LrpGen.Models.Decoders;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Decoders.Families;

/// <summary>Every decoder family from a tiny random Hugging Face folder (config.json + safetensors): (a) the loaded
/// model's logits equal <see cref="HfReference"/>'s, written from Hugging Face's modeling code; (b) its relevance
/// equals autograd through that reference with the rules injected (float64, 1e-6 x max |expected|), for AttnLRP,
/// CP-LRP and input x gradient; loaded in float32, its logits equal the reference's to 1e-5. Two prompts of 7 tokens: sliding windows of 3 and 5 tokens, and Phi-3's longrope
/// (original context 4) switched to its long factors, take effect.</summary>
public class FamilyTests
{
    public const double Tolerance = 1e-6;

    /// <summary>The families as their config.json files describe them (the keys real checkpoints use).</summary>
    internal static readonly IReadOnlyDictionary<string, Func<TinyFamily>> Families = new Dictionary<string, Func<TinyFamily>>
    {
        ["mistral"] = () => new TinyFamily
        {
            ModelType = "mistral", Eps = 1e-5, Window = 3, Sliding = new[] { true, true },
            Config = Llama(hiddenAct: "silu", eps: 1e-5, extra: new() { ["sliding_window"] = 3, ["rope_theta"] = 10000.0 }),
        },
        ["qwen2"] = () => new TinyFamily
        {
            ModelType = "qwen2", QkvBias = true, Tied = true, Theta = 1e6,
            Config = Llama(hiddenAct: "silu", extra: new()
            {
                ["rope_theta"] = 1e6, ["tie_word_embeddings"] = true, ["use_sliding_window"] = false, ["sliding_window"] = 4,
                ["max_window_layers"] = 1,
            }),
        },
        ["qwen3"] = () => new TinyFamily
        {
            ModelType = "qwen3", QkNorm = true, HeadDim = 8, Theta = 1e6,
            Config = Llama(hiddenAct: "silu", extra: new()
            {
                ["head_dim"] = 8, ["attention_bias"] = false, ["rope_parameters"] = new { rope_type = "default", rope_theta = 1e6 },
                ["use_sliding_window"] = false, ["sliding_window"] = null,
            }),
        },
        ["gemma2"] = () => new TinyFamily
        {
            ModelType = "gemma2", Gemma = true, Tied = true, HeadDim = 8, QueryPreAttnScalar = 6, AttentionSoftcap = 2,
            FinalSoftcap = 3, Window = 3, Sliding = new[] { true, false },
            Config = Llama(hiddenAct: "gelu_pytorch_tanh", extra: new()
            {
                ["head_dim"] = 8, ["hidden_activation"] = "gelu_pytorch_tanh", ["query_pre_attn_scalar"] = 6,
                ["attn_logit_softcapping"] = 2.0, ["final_logit_softcapping"] = 3.0, ["sliding_window"] = 3,
                ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = true,
            }),
        },
        ["gemma3_text"] = () => new TinyFamily
        {
            ModelType = "gemma3_text", Gemma = true, Tied = true, QkNorm = true, HeadDim = 8, QueryPreAttnScalar = 8,
            Window = 3, Sliding = new[] { true, false }, Theta = 1e6, LocalTheta = 10000, LinearFactor = 4,
            Config = Llama(hiddenAct: "gelu_pytorch_tanh", extra: new()
            {
                ["head_dim"] = 8, ["hidden_activation"] = "gelu_pytorch_tanh", ["query_pre_attn_scalar"] = 8,
                ["attn_logit_softcapping"] = null, ["final_logit_softcapping"] = null, ["sliding_window"] = 3,
                ["sliding_window_pattern"] = 2, ["rope_theta"] = 1e6, ["rope_local_base_freq"] = 10000.0,
                ["rope_scaling"] = new { rope_type = "linear", factor = 4.0 }, ["tie_word_embeddings"] = true,
            }),
        },
        ["phi3"] = () => new TinyFamily
        {
            ModelType = "phi3", FusedProjections = true, Window = 5, Sliding = new[] { true, true },
            ShortFactor = new[] { 1.0, 1.5 }, LongFactor = new[] { 2.0, 7.0 }, OriginalPositions = 4,
            LongRopeAttentionFactor = Math.Sqrt(1 + Math.Log(16.0 / 4) / Math.Log(4)),
            Config = Llama(hiddenAct: "silu", extra: new()
            {
                ["rope_theta"] = 10000.0, ["sliding_window"] = 5, ["max_position_embeddings"] = 16,
                ["original_max_position_embeddings"] = 4,
                ["rope_scaling"] = new { type = "longrope", short_factor = new[] { 1.0, 1.5 }, long_factor = new[] { 2.0, 7.0 } },
            }),
        },
        ["mixtral"] = () => new TinyFamily
        {
            ModelType = "mixtral", Experts = 4, TopK = 2, NormTopk = true, MixtralNames = true, Theta = 1e6,
            Config = Llama(hiddenAct: "silu", extra: new()
            {
                ["num_local_experts"] = 4, ["num_experts_per_tok"] = 2, ["sliding_window"] = null, ["rope_theta"] = 1e6,
            }),
        },
    };

    /// <summary>The LLaMA layout's keys for the tiny sizes of <see cref="TinyFamily"/>.</summary>
    private static Dictionary<string, object?> Llama(string hiddenAct, Dictionary<string, object?> extra, double eps = 1e-6)
    {
        var config = new Dictionary<string, object?>
        {
            ["vocab_size"] = 40, ["hidden_size"] = 16, ["intermediate_size"] = 24, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["hidden_act"] = hiddenAct, ["rms_norm_eps"] = eps,
            ["max_position_embeddings"] = 64, ["tie_word_embeddings"] = false,
        };
        foreach (var (key, value) in extra) config[key] = value;
        return config;
    }

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (var family in Families.Keys) cases.Add(family);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndRelevanceMatchTheHuggingFaceReference(string family)
    {
        var f = Families[family]().Draw(seed: 11);
        using var folder = f.Write();
        using var lm = CausalLm.Load(folder.Path, ScalarType.Float64);
        Assert.Equal(family, lm.Config.ModelType);
        torch.manual_seed(5);
        var ids = torch.randint(0, f.Vocab, new long[] { 2, 7 }, ScalarType.Int64);
        var embeds = f.Weights["model.embed_tokens.weight"].index_select(0, ids.flatten()).view(2, 7, f.Hidden);
        foreach (var method in new[] { LrpMethod.AttnLrp, LrpMethod.CpLrp, LrpMethod.Gradient })
        {
            using var pass = lm.Forward(ids, null, new LrpOptions { Method = method });

            // (a) the forward: the reference without rules is the plain forward.
            Tensor expectedLogits;
            using (torch.no_grad())
                expectedLogits = HfReference.Forward(f, new RuleInjection(LrpMethod.Gradient), embeds);
            Close.Relative(pass.Output, expectedLogits, Tolerance, $"{family} logits");

            // (b) relevance at the embeddings against autograd with the rules injected.
            torch.manual_seed(7);
            var weights = torch.randn(pass.Output.shape, ScalarType.Float64);
            var relevance = pass.Backward(weights)[0];
            var rules = new RuleInjection(method);
            var expected = RuleInjection.InputTimesGradient(embeds, e => HfReference.Forward(f, rules, e), weights);
            Close.Relative(relevance, expected, Tolerance, $"{family} [{method}] relevance");
        }

        // The same folder run in float32 (every cast of the modules in play): the reference's logits to float32 rounding.
        using var single = CausalLm.Load(folder.Path, ScalarType.Float32);
        using var singlePass = single.Forward(ids, null, new LrpOptions());
        Tensor reference;
        using (torch.no_grad())
            reference = HfReference.Forward(f, new RuleInjection(LrpMethod.Gradient), embeds);
        Close.Relative(singlePass.Output, reference, 1e-5, $"{family} float32 logits");
    }
}
