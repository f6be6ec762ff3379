using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Encoders;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.HuggingFace;
using LrpGen.Tests.Reference;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Encoders;

/// <summary>DistilBertEncoder (random weights, float64) against the independent truth of
/// <see cref="HfEncoderReference"/>: Hugging Face's DistilBertModel written again from its own state-dict names
/// (q_lin, sa_layer_norm, ffn.lin1, ...), positions 0..T-1, the query scaled before the product as transformers
/// does, padding masked with finfo.min, and the rules injected into autograd.</summary>
public class DistilBertEncoderTests
{
    private const int Hidden = 12, Heads = 3, Layers = 2, Inner = 20, Vocab = 30, Positions = 16;
    private const double Eps = 1e-12;

    private const string ConfigJson = """
        { "model_type": "distilbert", "vocab_size": 30, "dim": 12, "n_layers": 2, "n_heads": 3, "hidden_dim": 20,
          "max_position_embeddings": 16, "activation": "gelu", "pad_token_id": 0, "sinusoidal_pos_embds": false }
        """;

    private static readonly long[,] Ids = { { 2, 7, 11, 29, 3 }, { 2, 9, 3, 0, 0 } };

    private static IEnumerable<(string, long[])> StateDictShapes(string prefix) =>
        HfEncoderReference.DistilBertShapes(prefix, Vocab, Positions, Hidden, Inner, Layers)
            .Append(("vocab_transform.weight", new long[] { Hidden, Hidden }))
            .Append(("vocab_projector.bias", new long[] { Vocab }));

    /// <summary>DistilBertModel's forward from word embeddings. Its attention divides q by sqrt(head size) before
    /// q k^T (the same value as scaling the scores) and fills padded scores with finfo.min.</summary>
    private static Tensor Reference(RuleInjection ri, Tensor words, IReadOnlyDictionary<string, Tensor> w, string prefix)
    {
        long B = words.shape[0], T = words.shape[1], d = Hidden / Heads;
        using var positions = torch.arange(T).unsqueeze(0).expand(B, T);
        var attention = new long[B, T];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                attention[b, t] = Ids[b, t] == 0 ? 0 : 1;
        using var mask = HfEncoderReference.ExtendedMask(attention);
        var h = ri.LayerNorm(words.add(HfEncoderReference.Rows(w[prefix + "embeddings.position_embeddings.weight"], positions)),
            w[prefix + "embeddings.LayerNorm.weight"], w[prefix + "embeddings.LayerNorm.bias"], Eps);
        for (int i = 0; i < Layers; i++)
        {
            string l = $"{prefix}transformer.layer.{i}.";
            Tensor Split(Tensor x) => x.view(B, T, Heads, d).transpose(1, 2);
            var q = Split(HfEncoderReference.Linear(h, w, l + "attention.q_lin")).div(System.Math.Sqrt(d));
            var context = ri.Attention(q, Split(HfEncoderReference.Linear(h, w, l + "attention.k_lin")),
                Split(HfEncoderReference.Linear(h, w, l + "attention.v_lin")), mask, 1.0);
            var merged = context.transpose(1, 2).reshape(B, T, Hidden);
            var sa = ri.LayerNorm(HfEncoderReference.Linear(merged, w, l + "attention.out_lin").add(h),
                w[l + "sa_layer_norm.weight"], w[l + "sa_layer_norm.bias"], Eps);
            var inner = ri.Identity(x => nn.functional.gelu(x), HfEncoderReference.Linear(sa, w, l + "ffn.lin1"));
            h = ri.LayerNorm(HfEncoderReference.Linear(inner, w, l + "ffn.lin2").add(sa),
                w[l + "output_layer_norm.weight"], w[l + "output_layer_norm.bias"], Eps);
        }
        return h;
    }

    [Theory]
    [InlineData("distilbert.")]
    [InlineData("")]
    public void RelevanceAndForwardMatchTheHuggingFaceReference(string prefix)
    {
        using var folder = new TempFolder();
        using var stateDict = HfEncoderReference.RandomStateDict(StateDictShapes(prefix), seed: 5);
        var checkpoint = HfEncoderReference.WriteFolder(folder.Path, ConfigJson, stateDict);
        using var encoder = DistilBertLoading.FromCheckpoint(checkpoint, ScalarType.Float64);
        Assert.Equal(new DistilBertConfig(Vocab, Hidden, Layers, Heads, Inner, Positions), encoder.Config);

        using var ids = torch.tensor(Ids);
        using var positions = DistilBertEncoder.PositionIds(ids);
        using var mask = AttentionMasks.Additive(ids.ne(0), ScalarType.Float64);
        using var words = HfEncoderReference.Rows(stateDict[prefix + "embeddings.word_embeddings.weight"], ids);
        HfEncoderReference.Check(options => encoder.LrpForward(words, positions, mask, options), words,
            (ri, x) => Reference(ri, x, stateDict, prefix), $"distilbert ({(prefix == "" ? "bare" : prefix)})");
    }

    [Theory]
    [InlineData("dim")]
    [InlineData("n_heads")]
    [InlineData("n_layers")]
    [InlineData("hidden_dim")]
    public void AMissingKeyIsAOneLineErrorNamingIt(string key)
    {
        using var folder = new TempFolder();
        var json = System.Text.Json.Nodes.JsonNode.Parse(ConfigJson)!.AsObject();
        json.Remove(key);
        var error = Assert.Throws<CheckpointException>(() => DistilBertConfig.From(RobertaEncoderTests.Reader(folder, json.ToJsonString())));
        Assert.Contains($"has no '{key}'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ANonGeluActivationIsRefused()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<CheckpointException>(() => DistilBertConfig.From(RobertaEncoderTests.Reader(folder, ConfigJson.Replace("\"gelu\"", "\"relu\""))));
        Assert.Contains("activation 'relu'", error.Message);
    }
}
