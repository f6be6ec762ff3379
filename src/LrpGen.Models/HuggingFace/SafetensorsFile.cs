using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

/// <summary>A safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
/// a JSON header naming each tensor's dtype, shape and data_offsets, then the raw little-endian bytes.
/// <see cref="Open"/> reads and validates only the header; <see cref="Load"/> reads one tensor's bytes on demand,
/// so a checkpoint of many gigabytes costs memory only for the tensors actually loaded.</summary>
public sealed partial class SafetensorsFile
{
    /// <summary>Far above any real header (the reference implementation caps at 100 MB); a larger value means the
    /// first 8 bytes are not a header length at all, and allocating it would only hide that.</summary>
    private const long MaxHeaderBytes = 100_000_000;

    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private readonly long _dataStart;

    private SafetensorsFile(string filePath, Dictionary<string, SafetensorsEntry> entries,
        Dictionary<string, string> metadata, long dataStart)
    {
        FilePath = filePath;
        _entries = entries;
        Metadata = metadata;
        _dataStart = dataStart;
    }

    /// <summary>The full path of the file.</summary>
    public string FilePath { get; }

    /// <summary>The header's "__metadata__" (e.g. format = pt); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public IReadOnlyCollection<string> TensorNames => _entries.Keys;

    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>The stored shape (a copy; callers may keep or change it).</summary>
    public long[] Shape(string name) => (long[])Entry(name).Shape.Clone();

    public ScalarType StoredType(string name) => Entry(name).DType;

    /// <summary>Reads and validates the header. Every inconsistency (truncated file, bad JSON, unknown dtype,
    /// offsets past the end, overlapping tensors, sizes that do not match dtype and shape) is a
    /// <see cref="CheckpointException"/> naming the file and, where one is involved, the tensor.</summary>
    public static SafetensorsFile Open(string path)
    {
        // The data is copied into tensors byte for byte; on a big-endian machine every value would be scrambled.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Safetensors data is little-endian; this reader needs a little-endian machine.");

        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new CheckpointException($"The safetensors file {full} does not exist.", full);
        try
        {
            using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = stream.Length;
            if (length < 8)
                throw new CheckpointException($"{full} is only {length} bytes long, shorter than the 8-byte header length that starts a safetensors file (truncated file?).", full);

            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)(length - 8))
                throw new CheckpointException($"{full} declares a {headerLength}-byte header, but only {length - 8} bytes follow (truncated file, or not a safetensors file).", full);
            if (headerLength > MaxHeaderBytes)
                throw new CheckpointException($"{full} declares a {headerLength}-byte header, more than the {MaxHeaderBytes} bytes allowed (not a safetensors file?).", full);

            var json = new byte[headerLength];
            stream.ReadExactly(json);
            long dataStart = 8 + (long)headerLength;
            var (entries, metadata) = SafetensorsHeader.Parse(full, json, length - dataStart);
            return new SafetensorsFile(full, entries, metadata, dataStart);
        }
        catch (IOException e)
        {
            throw new CheckpointException($"Could not read {full}: {e.Message}", full, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CheckpointException($"Could not read {full}: {e.Message}", full, e);
        }
    }

    /// <summary>Reads one tensor into a new CPU tensor of its stored dtype and shape; the caller owns (disposes) it.</summary>
    public Tensor Load(string name)
    {
        var entry = Entry(name);
        // Tensor.bytes is a Span, so one tensor's bytes must fit in an int.
        if (entry.ByteCount > int.MaxValue)
            throw new CheckpointException($"Tensor '{name}' in {FilePath} holds {entry.ByteCount} bytes; tensors over 2 GiB are not supported.", FilePath);

        var tensor = torch.empty(entry.Shape, entry.DType, torch.CPU);
        try
        {
            if (entry.ByteCount > 0)
            {
                // bufferSize 1 = unbuffered: the bytes go straight from the file into the tensor's storage
                // (Tensor.bytes of a contiguous CPU tensor is a view of that storage, not a copy).
                using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
                stream.Seek(_dataStart + entry.Begin, SeekOrigin.Begin);
                stream.ReadExactly(tensor.bytes);
            }
            return tensor;
        }
        catch (EndOfStreamException e)
        {
            tensor.Dispose();
            throw new CheckpointException($"{FilePath} ended before the bytes of tensor '{name}' (it was truncated after it was opened).", FilePath, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            tensor.Dispose();
            throw new CheckpointException($"Could not read tensor '{name}' from {FilePath}: {e.Message}", FilePath, e);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    private SafetensorsEntry Entry(string name) =>
        _entries.TryGetValue(name, out var entry)
            ? entry
            : throw new CheckpointException($"{FilePath} has no tensor '{name}'.", FilePath);
}
