using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Serialization;

namespace LrpGen.Cli;

/// <summary>The JSON of <c>lrpgen explain --json</c>, in this order: model_type, method, target, logit, tokens, pieces
/// (only with a tokenizer), relevance per position and latent["layers.i"] per position, in block order.</summary>
internal sealed record ExplainReportJson(
    string ModelType,
    string Method,
    long Target,
    float Logit,
    IReadOnlyList<long> Tokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Pieces,
    IReadOnlyList<float> Relevance,
    OrderedDictionary<string, float[]> Latent);

/// <summary>Writes an explanation as JSON (<see cref="ExplainReportJson"/>). Floats are written in their shortest
/// round-trip form; a non-finite value is written as null.</summary>
public static class JsonReport
{
    public static void Write(Stream stream, ExplainResult result) =>
        ReportJson.Write(stream, From(result), ReportJsonContext.Default.ExplainReportJson, indented: true);

    private static ExplainReportJson From(ExplainResult result) => new(
        result.ModelType,
        result.Method,
        result.Target,
        result.Logit,
        result.Tokens,
        result.Pieces,
        result.Relevance,
        new OrderedDictionary<string, float[]>(result.Latent));
}
