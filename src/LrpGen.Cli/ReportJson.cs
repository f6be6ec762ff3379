using System;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LrpGen.Cli;

/// <summary>The serializer of lrpgen's JSON reports, generated at build time for their record types (no reflection):
/// snake_case names, and a non-finite float (JSON has none) written as null.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, Converters = new[] { typeof(FiniteOrNullFloat) })]
[JsonSerializable(typeof(ExplainReportJson))]
[JsonSerializable(typeof(GenerateReportJson))]
[JsonSerializable(typeof(GenerationPageJson))]
[JsonSerializable(typeof(SimilarityReportJson))]
[JsonSerializable(typeof(SimilarityRankingJson))]
[JsonSerializable(typeof(ImageReportJson))]
[JsonSerializable(typeof(ImageTopKReportJson))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;

/// <summary>Writes a report: token text stays readable (no \uXXXX escapes: these files are no HTML); floats in their
/// shortest round-trip form.</summary>
internal static class ReportJson
{
    public static void Write<T>(Stream stream, T report, JsonTypeInfo<T> type, bool indented)
    {
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        JsonSerializer.Serialize(writer, report, type);
    }
}

/// <summary>A float as its shortest round-trip number, or null when it is NaN or infinite; null reads back as NaN.</summary>
internal sealed class FiniteOrNullFloat : JsonConverter<float>
{
    public override bool HandleNull => true;

    public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? float.NaN : reader.GetSingle();

    public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
    {
        if (float.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
