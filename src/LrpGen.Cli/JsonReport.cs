using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LrpGen.Cli;

/// <summary>Writes an explanation as JSON: model_type, method, target, logit, tokens, pieces (with a tokenizer),
/// relevance per position and latent["layers.i"] per position. Floats are written in their shortest round-trip
/// form; a non-finite value (JSON has none) is written as null.</summary>
public static class JsonReport
{
    public static void Write(Stream stream, ExplainResult result)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,   // token text stays readable; this is no HTML
        });
        json.WriteStartObject();
        json.WriteString("model_type", result.ModelType);
        json.WriteString("method", result.Method);
        json.WriteNumber("target", result.Target);
        json.WritePropertyName("logit");
        WriteFloat(json, result.Logit);
        json.WriteStartArray("tokens");
        foreach (var id in result.Tokens) json.WriteNumberValue(id);
        json.WriteEndArray();
        if (result.Pieces is { } pieces)
        {
            json.WriteStartArray("pieces");
            foreach (var piece in pieces) json.WriteStringValue(piece);
            json.WriteEndArray();
        }
        json.WriteStartArray("relevance");
        foreach (var r in result.Relevance) WriteFloat(json, r);
        json.WriteEndArray();
        json.WriteStartObject("latent");
        foreach (var (name, values) in result.Latent)
        {
            json.WriteStartArray(name);
            foreach (var r in values) WriteFloat(json, r);
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The shortest text that parses back to the same float32.</summary>
    private static void WriteFloat(Utf8JsonWriter json, float value)
    {
        if (float.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }
}
