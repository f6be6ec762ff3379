using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;

namespace LrpGen.Models.HuggingFace;

/// <summary>Parses and validates the JSON header of a safetensors file, so that a later
/// <see cref="SafetensorsFile.Load"/> can trust every offset it reads.</summary>
internal static class SafetensorsHeader
{
    private const string MetadataKey = "__metadata__";

    /// <param name="path">The file, for messages.</param>
    /// <param name="json">The header bytes.</param>
    /// <param name="dataLength">How many bytes follow the header in the file.</param>
    public static (Dictionary<string, SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        string path, byte[] json, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"The header of {path} is not valid JSON ({e.Message}); the file is corrupt or not a safetensors file.", path, e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"The header of {path} is JSON {root.ValueKind}, not an object; the file is corrupt or not a safetensors file.", path);

            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    ParseMetadata(path, property.Value, metadata);
                    continue;
                }
                // JsonDocument keeps duplicate keys; a second entry would silently shadow the first.
                if (entries.ContainsKey(property.Name))
                    throw new CheckpointException($"The header of {path} lists tensor '{property.Name}' twice.", path);
                entries.Add(property.Name, ParseEntry(path, property.Name, property.Value, dataLength));
            }
            CheckOverlaps(path, entries.Values);
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException($"'{MetadataKey}' in the header of {path} is JSON {value.ValueKind}, not an object of strings.", path);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException($"'{MetadataKey}' entry '{item.Name}' in the header of {path} is JSON {item.Value.ValueKind}, not a string.", path);
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        string where = $"tensor '{name}' in {path}";
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException($"The header entry of {where} is JSON {value.ValueKind}, not an object.", path);

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new CheckpointException($"The header entry of {where} has no 'dtype' string.", path);
        string dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDType.TryParse(dtypeName, out var dtype, out int elementSize))
            throw new CheckpointException($"The dtype '{dtypeName}' of {where} is not supported (supported: {SafetensorsDType.Supported}).", path);

        long[] shape = ReadLongs(value, "shape", where, path, expectedCount: null);
        long[] offsets = ReadLongs(value, "data_offsets", where, path, expectedCount: 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end)
            throw new CheckpointException($"The data_offsets [{begin}, {end}] of {where} end before they begin.", path);
        if (end > dataLength)
            throw new CheckpointException($"The data_offsets [{begin}, {end}] of {where} lie past the end of the data section ({dataLength} bytes): the file is truncated or its header is corrupt.", path);

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (product, dim) => product * dim) * elementSize);
        }
        catch (OverflowException e)
        {
            throw new CheckpointException($"The shape {SafetensorsEntry.FormatShape(shape)} of {where} is too large.", path, e);
        }
        if (end - begin != expected)
            throw new CheckpointException($"Tensor '{name}' in {path} holds {end - begin} bytes, but dtype {dtypeName} and shape {SafetensorsEntry.FormatShape(shape)} need {expected}.", path);

        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long[] ReadLongs(JsonElement entry, string key, string where, string path, int? expectedCount)
    {
        string wanted = expectedCount is int count ? $"an array of {count} non-negative integers" : "an array of non-negative integers";
        if (!entry.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array
            || (expectedCount is int n && array.GetArrayLength() != n))
            throw new CheckpointException($"The '{key}' of {where} is missing or not {wanted}.", path);

        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new CheckpointException($"The '{key}' of {where} is not {wanted}: {array.GetRawText()}.", path);
            values[i++] = v;
        }
        return values;
    }

    /// <summary>Two tensors sharing bytes would mean a corrupt header; empty tensors hold no bytes and cannot overlap.</summary>
    private static void CheckOverlaps(string path, IEnumerable<SafetensorsEntry> entries)
    {
        SafetensorsEntry? furthest = null;   // the entry, among those seen so far, that ends last
        foreach (var entry in entries.Where(e => e.ByteCount > 0).OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (furthest is not null && entry.Begin < furthest.End)
                throw new CheckpointException(
                    $"Tensors '{furthest.Name}' (data_offsets [{furthest.Begin}, {furthest.End}]) and '{entry.Name}' (data_offsets [{entry.Begin}, {entry.End}]) in {path} overlap; the header is corrupt.", path);
            if (furthest is null || entry.End > furthest.End) furthest = entry;
        }
    }
}
