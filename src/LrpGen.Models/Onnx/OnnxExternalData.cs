using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using LrpGen.Models.Onnx.Proto;

namespace LrpGen.Models.Onnx;

/// <summary>Reads tensors whose bytes an ONNX model keeps in other files (<c>data_location = EXTERNAL</c>, the way
/// exporters store models over protobuf's 2 GB limit): <c>external_data</c> names a <c>location</c> relative to the
/// model's folder, and optionally an <c>offset</c> and a <c>length</c> in bytes. Each file is opened once.</summary>
internal sealed class OnnxExternalData : IDisposable
{
    /// <summary><c>TensorProto.DataLocation.EXTERNAL</c>.</summary>
    public const int External = 1;

    private readonly string _folder;
    private readonly Dictionary<string, FileStream> _files = new(StringComparer.Ordinal);

    public OnnxExternalData(string folder) => _folder = folder;

    /// <summary>The tensor's <c>location</c> entry.</summary>
    public static string Location(TensorProto tensor, string source) =>
        Entry(tensor, "location")
        ?? throw new InvalidDataException($"{source} is malformed: tensor '{tensor.Name}' keeps its data externally but names no location (TensorProto.external_data).");

    /// <summary>The tensor's bytes, read from its file; the location must stay inside the model's folder.</summary>
    public byte[] Read(TensorProto tensor, string location, string source)
    {
        string path = Path.GetFullPath(Path.Combine(_folder, location));
        string folder = Path.TrimEndingDirectorySeparator(_folder) + Path.DirectorySeparatorChar;
        if (Path.IsPathRooted(location) || !path.StartsWith(folder, StringComparison.Ordinal))
            throw new InvalidDataException($"{source}: tensor '{tensor.Name}' keeps its data in '{location}', which is not a file inside the model's folder.");
        if (!_files.TryGetValue(path, out var file))
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"{source}: tensor '{tensor.Name}' keeps its data in '{location}', which is not next to the model ({path}).", path);
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            _files.Add(path, file);
        }
        long offset = Number(tensor, "offset", source) ?? 0;
        long length = Number(tensor, "length", source) ?? file.Length - offset;
        if (offset > file.Length || length > file.Length - offset || length < 0)
            throw new InvalidDataException(
                $"{source}: tensor '{tensor.Name}' asks for bytes [{offset}, {offset + length}) of '{location}', which holds {file.Length} (is the file truncated?).");
        if (length > Array.MaxLength)
            throw new InvalidDataException($"{source}: tensor '{tensor.Name}' has {length} bytes in '{location}', more than one array can hold.");
        var bytes = new byte[length];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    public void Dispose()
    {
        foreach (var file in _files.Values) file.Dispose();
        _files.Clear();
    }

    private static string? Entry(TensorProto tensor, string key)
    {
        foreach (var entry in tensor.ExternalData)
            if (entry.Key == key) return entry.Value;
        return null;
    }

    private static long? Number(TensorProto tensor, string key, string source)
    {
        if (Entry(tensor, key) is not { } text) return null;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new InvalidDataException($"{source} is malformed: tensor '{tensor.Name}' has external_data {key} '{text}', not a byte count.");
    }
}
