using System;
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

/// <summary>RobertaEncoder (XLM-R configuration, random weights, float64) against the independent truth of
/// <see cref="HfEncoderReference"/>: Hugging Face's XLMRobertaModel written again from its state-dict names, with
/// positions counted by hand as create_position_ids_from_input_ids does, and the rules injected into autograd.</summary>
public class RobertaEncoderTests
{
    private const int Pad = 1, Hidden = 16, Heads = 4, Layers = 2, Inner = 24, Vocab = 40, Positions = 20;

    private const string ConfigJson = """
        { "model_type": "xlm-roberta", "vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
          "intermediate_size": 24, "max_position_embeddings": 20, "type_vocab_size": 1, "layer_norm_eps": 1e-05,
          "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "position_embedding_type": "absolute" }
        """;

    // Row 0 full; row 1 right-padded; row 2 left-padded (positions still start at pad + 1 on its first real token).
    private static readonly long[,] Ids = { { 0, 5, 9, 33, 7, 2 }, { 0, 12, 2, Pad, Pad, Pad }, { Pad, Pad, 0, 21, 4, 2 } };

    private static IEnumerable<(string, long[])> StateDictShapes(string prefix) =>
        HfEncoderReference.BertShapes(prefix, Vocab, Positions, typeVocab: 1, Hidden, Inner, Layers)
            // Parts of a task checkpoint that an encoder leaves alone.
            .Append((prefix + "pooler.dense.weight", new long[] { Hidden, Hidden }))
            .Append(("lm_head.dense.weight", new long[] { Hidden, Hidden }));

    /// <summary>Positions by hand: padding_idx for padding, padding_idx + 1 + (real tokens before) for a token.</summary>
    private static long[,] PositionsByHand()
    {
        var positions = new long[Ids.GetLength(0), Ids.GetLength(1)];
        for (int b = 0; b < Ids.GetLength(0); b++)
        {
            long next = Pad;
            for (int t = 0; t < Ids.GetLength(1); t++)
                positions[b, t] = Ids[b, t] == Pad ? Pad : ++next;
        }
        return positions;
    }

    /// <summary>XLMRobertaModel's forward from word embeddings, reading Hugging Face names.</summary>
    private static Tensor Reference(RuleInjection ri, Tensor words, IReadOnlyDictionary<string, Tensor> w, string prefix)
    {
        using var positions = torch.tensor(PositionsByHand());
        using var mask = HfEncoderReference.ExtendedMask(AttentionOnes());
        var embedded = words.add(HfEncoderReference.Rows(w[prefix + "embeddings.position_embeddings.weight"], positions))
            .add(w[prefix + "embeddings.token_type_embeddings.weight"][0]);
        var h = ri.LayerNorm(embedded, w[prefix + "embeddings.LayerNorm.weight"], w[prefix + "embeddings.LayerNorm.bias"], 1e-5);
        for (int i = 0; i < Layers; i++)
        {
            string l = $"{prefix}encoder.layer.{i}.";
            h = HfEncoderReference.PostLnLayer(ri, h, mask, w, Heads, 1e-5, l + "attention.self.query", l + "attention.self.key",
                l + "attention.self.value", l + "attention.output.dense", l + "attention.output.LayerNorm", l + "intermediate.dense",
                l + "output.dense", l + "output.LayerNorm");
        }
        return h;
    }

    private static long[,] AttentionOnes()
    {
        var mask = new long[Ids.GetLength(0), Ids.GetLength(1)];
        for (int b = 0; b < Ids.GetLength(0); b++)
            for (int t = 0; t < Ids.GetLength(1); t++)
                mask[b, t] = Ids[b, t] == Pad ? 0 : 1;
        return mask;
    }

    [Theory]
    [InlineData("roberta.")]
    [InlineData("")]
    public void RelevanceAndForwardMatchTheHuggingFaceReference(string prefix)
    {
        using var folder = new TempFolder();
        using var stateDict = HfEncoderReference.RandomStateDict(StateDictShapes(prefix), seed: 3);
        var checkpoint = HfEncoderReference.WriteFolder(folder.Path, ConfigJson, stateDict);
        using var encoder = RobertaLoading.FromCheckpoint(checkpoint, ScalarType.Float64);
        Assert.Equal(new RobertaConfig("xlm-roberta", Vocab, Hidden, Layers, Heads, Inner, Positions, 1, 1e-5, Pad), encoder.Config);

        using var ids = torch.tensor(Ids);
        using var positions = RobertaEncoder.PositionIds(ids, Pad);
        Assert.Equal(PositionsByHand().Cast<long>().ToArray(), positions.data<long>().ToArray());
        using var mask = AttentionMasks.Additive(ids.ne(Pad), ScalarType.Float64);
        using var words = HfEncoderReference.Rows(stateDict[prefix + "embeddings.word_embeddings.weight"], ids);
        HfEncoderReference.Check(options => encoder.LrpForward(words, positions, mask, options), words,
            (ri, x) => Reference(ri, x, stateDict, prefix), $"xlm-roberta ({(prefix == "" ? "bare" : prefix)})");

        // Attention probabilities for rollout: one [B, heads, T, T] per layer, no weight on padded keys.
        var probabilities = encoder.AttentionProbabilities(words, positions, mask);
        Assert.Equal(Layers, probabilities.Count);
        Assert.Equal(new long[] { 3, Heads, 6, 6 }, probabilities[0].shape);
        Assert.Equal(0.0, probabilities[1][1, TensorIndex.Ellipsis, TensorIndex.Slice(3)].abs().max().item<double>());
        foreach (var p in probabilities) p.Dispose();
    }

    [Theory]
    [InlineData("pad_token_id", "has no 'pad_token_id'")]
    [InlineData("num_attention_heads", "has no 'num_attention_heads'")]
    [InlineData("hidden_size", "has no 'hidden_size'")]
    public void AMissingKeyIsAOneLineErrorNamingIt(string key, string message)
    {
        using var folder = new TempFolder();
        var json = System.Text.Json.Nodes.JsonNode.Parse(ConfigJson)!.AsObject();
        json.Remove(key);
        var error = Assert.Throws<CheckpointException>(() => RobertaConfig.From(Reader(folder, json.ToJsonString())));
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void APaddingIdWithoutRoomForAPositionIsRefused()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<CheckpointException>(() => RobertaConfig.From(Reader(folder, ConfigJson.Replace("\"pad_token_id\": 1", "\"pad_token_id\": 19"))));
        Assert.Contains("'pad_token_id' is 19", error.Message);
    }

    [Fact]
    public void ACheckpointOfAnotherArchitectureIsRefusedByName()
    {
        using var folder = new TempFolder();
        using var stateDict = HfEncoderReference.RandomStateDict(StateDictShapes("").Append(("encoder.layer.2.output.dense.bias", new long[] { Hidden })), seed: 3);
        var checkpoint = HfEncoderReference.WriteFolder(folder.Path, ConfigJson, stateDict);
        var error = Assert.Throws<CheckpointException>(() => RobertaLoading.FromCheckpoint(checkpoint, ScalarType.Float64));
        Assert.Contains("'encoder.layer.2.output.dense.bias'", error.Message);
    }

    internal static ConfigReader Reader(TempFolder folder, string json)
    {
        string path = folder.File(CheckpointFolder.ConfigFileName);
        System.IO.File.WriteAllText(path, json);
        return new ConfigReader(System.Text.Json.JsonDocument.Parse(json).RootElement.Clone(), path);
    }
}
