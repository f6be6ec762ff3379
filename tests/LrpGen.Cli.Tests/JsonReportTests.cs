using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>The JSON layout and float precision, without a model.</summary>
public class JsonReportTests
{
    private static ExplainResult Result(IReadOnlyList<string>? pieces, float[] relevance) => new()
    {
        ModelType = "qwen3_moe",
        Method = "gradx",
        Target = 49,
        Logit = 2.3312345f,
        Tokens = new long[] { 5, 17, 3 },
        Pieces = pieces,
        Relevance = relevance,
        Latent = new[]
        {
            new KeyValuePair<string, float[]>("layers.0", new[] { 0.1f, 0.2f, 0.3f }),
            new KeyValuePair<string, float[]>("layers.1", new[] { -1e-30f, 3e38f, 1f / 3 }),
        },
    };

    private static JsonElement Write(ExplainResult result)
    {
        using var stream = new MemoryStream();
        JsonReport.Write(stream, result);
        return JsonDocument.Parse(stream.ToArray()).RootElement;
    }

    [Fact]
    public void FloatsRoundTripExactly()
    {
        var relevance = new[] { 0.1f, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(0.1f) + 1), -1.17549435e-38f };
        var root = Write(Result(null, relevance));

        Assert.Equal(relevance, root.GetProperty("relevance").EnumerateArray().Select(e => e.GetSingle()));
        Assert.Equal(2.3312345f, root.GetProperty("logit").GetSingle());
        Assert.Equal(new[] { -1e-30f, 3e38f, 1f / 3 }, root.GetProperty("latent").GetProperty("layers.1").EnumerateArray().Select(e => e.GetSingle()));
    }

    [Fact]
    public void LayoutHasTheDocumentedKeysInOrder()
    {
        var root = Write(Result(new[] { "a", "\"b\"", "ü" }, new[] { 1f, 2f, 3f }));

        Assert.Equal(new[] { "model_type", "method", "target", "logit", "tokens", "pieces", "relevance", "latent" },
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(new[] { "layers.0", "layers.1" }, root.GetProperty("latent").EnumerateObject().Select(p => p.Name));
        Assert.Equal(new[] { "a", "\"b\"", "ü" }, root.GetProperty("pieces").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(49, root.GetProperty("target").GetInt64());
    }

    [Fact]
    public void PiecesAreLeftOutWithoutATokenizerAndNonFiniteValuesAreNull()
    {
        var root = Write(Result(null, new[] { float.NaN, 1f, float.PositiveInfinity }));

        Assert.False(root.TryGetProperty("pieces", out _));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("relevance")[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("relevance")[2].ValueKind);
    }
}
