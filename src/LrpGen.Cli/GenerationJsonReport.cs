using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace LrpGen.Cli;

/// <summary>One generated token in <c>lrpgen generate --json</c>: id, piece (null without a tokenizer), logit, prob.</summary>
internal sealed record GeneratedTokenJson(long Id, string? Piece, float Logit, float Prob);

/// <summary>The JSON of <c>lrpgen generate --json</c>, in this order: model_type, method, prompt_tokens (ids), generated,
/// relevance (one row per generated token, one column per prompt + generated position, 0 where the position is not
/// before the token).</summary>
internal sealed record GenerateReportJson(
    string ModelType,
    string Method,
    IReadOnlyList<long> PromptTokens,
    IReadOnlyList<GeneratedTokenJson> Generated,
    IReadOnlyList<float[]> Relevance);

/// <summary>Writes a generation as JSON (<see cref="GenerateReportJson"/>) through the source-generated serializer.</summary>
public static class GenerationJsonReport
{
    public static void Write(Stream stream, GenerationResult result) =>
        ReportJson.Write(stream, From(result), ReportJsonContext.Default.GenerateReportJson, indented: true);

    private static GenerateReportJson From(GenerationResult result) => new(
        result.ModelType,
        result.Method,
        result.PromptTokens,
        result.Generated.Select(g => new GeneratedTokenJson(g.Id, g.Piece, g.Logit, g.Probability)).ToArray(),
        result.Relevance);
}
