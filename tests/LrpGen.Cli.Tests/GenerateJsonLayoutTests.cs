using System.IO;
using System.Text;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>The JSON of <c>lrpgen generate --json</c> byte for byte: the layout the README documents, written out by hand.</summary>
public class GenerateJsonLayoutTests
{
    [Fact]
    public void GenerateReportText()
    {
        var result = new GenerationResult
        {
            ModelType = "llama",
            Method = "gradx",
            PromptTokens = new long[] { 1, 5 },
            Generated = new[] { new GeneratedToken(7, " ü\"<", 2.5f, 0.75f, 0.5f), new GeneratedToken(9, null, float.NaN, 0.125f, -1) },
            Pieces = null,
            Stop = "eos",
            Relevance = new[] { new[] { 0.25f, 0.25f, 0, 0 }, new[] { -1f, 0.5f, -0.5f, 0 } },
        };
        using var stream = new MemoryStream();
        GenerationJsonReport.Write(stream, result);
        Assert.Equal("""
            {
              "model_type": "llama",
              "method": "gradx",
              "prompt_tokens": [
                1,
                5
              ],
              "generated": [
                {
                  "id": 7,
                  "piece": " ü\"<",
                  "logit": 2.5,
                  "prob": 0.75
                },
                {
                  "id": 9,
                  "piece": null,
                  "logit": null,
                  "prob": 0.125
                }
              ],
              "relevance": [
                [
                  0.25,
                  0.25,
                  0,
                  0
                ],
                [
                  -1,
                  0.5,
                  -0.5,
                  0
                ]
              ]
            }
            """.ReplaceLineEndings("\n"), Encoding.UTF8.GetString(stream.ToArray()).ReplaceLineEndings("\n"));
    }
}
