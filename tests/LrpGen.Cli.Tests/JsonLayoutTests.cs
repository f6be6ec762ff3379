using System.Collections.Generic;
using System.IO;
using System.Text;
using LrpGen.Models.Sentences;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>The JSON reports byte for byte: key order, indentation, number text, null for a non-finite value, readable
/// (unescaped) token text. The expected texts are the layout the README documents, written out by hand.</summary>
public class JsonLayoutTests
{
    private static string Text(System.Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public void ExplainReportText()
    {
        var result = new ExplainResult
        {
            ModelType = "llama",
            Method = "attnlrp",
            Target = 7,
            Logit = 1.5f,
            Tokens = new long[] { 5, 17 },
            Pieces = new[] { "a", "ü\"<" },
            Relevance = new[] { 0.25f, float.NaN },
            Latent = new[] { new KeyValuePair<string, float[]>("layers.0", new[] { 0.1f, -2f }), new KeyValuePair<string, float[]>("layers.1", new float[0]) },
        };

        Assert.Equal("""
            {
              "model_type": "llama",
              "method": "attnlrp",
              "target": 7,
              "logit": 1.5,
              "tokens": [
                5,
                17
              ],
              "pieces": [
                "a",
                "ü\"<"
              ],
              "relevance": [
                0.25,
                null
              ],
              "latent": {
                "layers.0": [
                  0.1,
                  -2
                ],
                "layers.1": []
              }
            }
            """, Text(stream => JsonReport.Write(stream, result)));
    }

    [Fact]
    public void ExplainReportWithoutATokenizerHasNoPieces()
    {
        var result = new ExplainResult
        {
            ModelType = "gpt2",
            Method = "gradx",
            Target = 0,
            Logit = float.PositiveInfinity,
            Tokens = new long[] { 3 },
            Relevance = new[] { 1e-30f },
            Latent = new KeyValuePair<string, float[]>[0],
        };

        Assert.Equal("""
            {
              "model_type": "gpt2",
              "method": "gradx",
              "target": 0,
              "logit": null,
              "tokens": [
                3
              ],
              "relevance": [
                1E-30
              ],
              "latent": {}
            }
            """, Text(stream => JsonReport.Write(stream, result)));
    }

    [Fact]
    public void SimilarityReportText()
    {
        var explanation = new SimilarityExplanation(0.75f, LrpMethod.CpLrp,
            new SentenceRelevance("Hi <there>", new long[] { 101, 102 }, new[] { "[CLS]", "ü" }, new[] { 0.5f, float.NegativeInfinity }),
            new SentenceRelevance("B", new long[] { 7 }, new[] { "b" }, new[] { -0.125f }));

        Assert.Equal("""
            {
              "similarity": 0.75,
              "method": "cplrp",
              "a": {
                "sentence": "Hi <there>",
                "tokens": [
                  101,
                  102
                ],
                "pieces": [
                  "[CLS]",
                  "ü"
                ],
                "relevance": [
                  0.5,
                  null
                ]
              },
              "b": {
                "sentence": "B",
                "tokens": [
                  7
                ],
                "pieces": [
                  "b"
                ],
                "relevance": [
                  -0.125
                ]
              }
            }
            """, Text(stream => SimilarityReport.WriteJson(stream, explanation)));
    }

    [Fact]
    public void ImageReportTextIsOneLine()
    {
        Assert.Equal("""{"target":3,"logit":2.5,"relevance_map":[[0.1,-1],[0,1E-30],[3.4028235E+38,0.25]]}""",
            Text(stream => ImageReport.WriteJson(stream, 3, 2.5f, new[] { 0.1f, -1f, 0f, 1e-30f, float.MaxValue, 0.25f }, 3, 2)));
    }
}
