using System;
using System.Collections.Generic;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Linq;
using System.Text;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Gguf;

/// <summary>One tensor's entry in a GGUF file: its name, its dimensions in ggml's order (innermost first), its type
/// and where its data starts, relative to the data section.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgmlType Type, long Offset, long ByteCount)
{
    /// <summary>The shape as PyTorch orders it (outermost first): ggml's ne reversed.</summary>
    public long[] Shape => Enumerable.Reverse(Dims).ToArray();

    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A GGUF file (versions 2 and 3, little-endian): the metadata key-value pairs, the tensor infos and the
/// aligned data section, read through a memory map. Written here rather than taken from a library because no served
/// .NET package reads GGUF tensors (LLamaSharp loads GGUF only into llama.cpp, which is also the independent reference
/// the tests compare with, so the reader must not be llama.cpp's own). <see cref="Open"/> reads and checks the header;
/// <see cref="Load(string, ScalarType)"/> decodes one tensor on demand, dequantizing into float32 before the conversion to the wanted dtype.</summary>
public sealed class GgufFile
{
    public const uint Magic = 0x46554747;          // "GGUF" read as a little-endian uint
    public const int DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";
    private const int MaxDims = 4;                 // GGML_MAX_DIMS

    private readonly Dictionary<string, GgufTensorInfo> _tensors;

    private GgufFile(string filePath, uint version, Dictionary<string, GgufValue> metadata, List<GgufTensorInfo> tensors, long dataStart, int alignment)
    {
        FilePath = filePath;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        _tensors = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        DataStart = dataStart;
        Alignment = alignment;
    }

    public string FilePath { get; }
    public uint Version { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>The tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Where the data section starts (bytes from the file's start).</summary>
    public long DataStart { get; }

    public int Alignment { get; }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public GgufTensorInfo Tensor(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new CheckpointException($"{FilePath} has no tensor '{name}'.", FilePath);

    /// <summary>Reads and checks the header: magic, version, every metadata value, every tensor info and that each
    /// tensor's data lies inside the file. A problem is one <see cref="CheckpointException"/> naming the file and what
    /// is wrong (truncated, not GGUF, an unknown value type, a tensor past the end, ...).</summary>
    public static unsafe GgufFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("GGUF data is read as little-endian; this reader needs a little-endian machine.");
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new CheckpointException($"The GGUF file {full} does not exist.", full);
        long length = new FileInfo(full).Length;
        if (length < 24)
            throw new CheckpointException($"{full} is {length} bytes long, shorter than a GGUF header (24 bytes): truncated, or not a GGUF file.", full);
        try
        {
            using var map = MemoryMappedFile.CreateFromFile(full, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            try
            {
                return Parse(full, new GgufReader(full, start + view.PointerOffset, length));
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"Could not read {full}: {e.Message}", full, e);
        }
    }

    private static GgufFile Parse(string path, GgufReader reader)
    {
        uint magic = reader.UInt32("the magic number");
        if (magic != Magic)
            throw new CheckpointException($"{path} is not a GGUF file: it starts with 0x{magic:X8}, not \"GGUF\".", path);
        uint version = reader.UInt32("the version");
        if (version is not (2 or 3))
            throw new CheckpointException(version == 1
                ? $"{path} is GGUF version 1, which is not supported (2, 3): convert it again with a current llama.cpp."
                : $"{path} declares GGUF version {version} (0x{version:X8}); supported are 2 and 3 (a big-endian file is not supported either).", path);
        long tensorCount = reader.Count("the tensor count", minBytesEach: 24);
        long metadataCount = reader.Count("the metadata count", minBytesEach: 12);

        var metadata = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        for (long i = 0; i < metadataCount; i++)
        {
            string key = reader.String($"metadata key {i}");
            var type = (GgufValueType)reader.UInt32($"the type of metadata '{key}'");
            var value = reader.Value(type, $"metadata '{key}'");
            if (!metadata.TryAdd(key, value))
                throw new CheckpointException($"{path} has metadata key '{key}' twice (corrupted file).", path);
        }

        int alignment = DefaultAlignment;
        if (metadata.TryGetValue(AlignmentKey, out var a))
        {
            if (a.Type != GgufValueType.UInt32 || a.AsDouble() is var v && (v <= 0 || v > 1 << 30 || ((long)v & ((long)v - 1)) != 0))
                throw new CheckpointException($"{path}: '{AlignmentKey}' is {a} ({a.Type}); it must be a uint32 power of two.", path);
            alignment = (int)a.AsDouble();
        }

        var tensors = new List<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = reader.String($"the name of tensor {i}");
            if (!names.Add(name)) throw new CheckpointException($"{path} has tensor '{name}' twice (corrupted file).", path);
            uint dimCount = reader.UInt32($"the dimension count of tensor '{name}'");
            if (dimCount is 0 or > MaxDims)
                throw new CheckpointException($"{path}: tensor '{name}' has {dimCount} dimensions; ggml tensors have 1 to {MaxDims} (corrupted file).", path);
            var dims = new long[dimCount];
            for (int d = 0; d < dimCount; d++)
            {
                ulong dim = reader.UInt64($"dimension {d} of tensor '{name}'");
                if (dim > (ulong)reader.Length * 8)
                    throw new CheckpointException($"{path}: tensor '{name}' has dimension {d} of {dim}, more than the file could hold (corrupted file).", path);
                dims[d] = (long)dim;
            }
            var type = (GgmlType)reader.UInt32($"the type of tensor '{name}'");
            ulong offset = reader.UInt64($"the data offset of tensor '{name}'");
            if (offset % (ulong)alignment != 0)
                throw new CheckpointException($"{path}: tensor '{name}' starts at data offset {offset}, not a multiple of the alignment {alignment} (corrupted file).", path);
            long bytes = -1;
            if (GgmlTypes.IsSupported(type))
            {
                var (block, blockBytes) = GgmlTypes.LayoutOf(type);
                if (dims[0] % block != 0)
                    throw new CheckpointException($"{path}: tensor '{name}' ({GgmlTypes.NameOf(type)}) has rows of {dims[0]} values, not a multiple of its block size {block} (corrupted file).", path);
                try
                {
                    bytes = checked(dims.Skip(1).Aggregate(dims[0] / block * blockBytes, (p, n) => p * n));
                }
                catch (OverflowException)
                {
                    throw new CheckpointException($"{path}: tensor '{name}' has dimensions [{string.Join(", ", dims)}] whose size overflows (corrupted file).", path);
                }
            }
            tensors.Add(new GgufTensorInfo(name, dims, type, (long)Math.Min(offset, long.MaxValue), bytes));
        }

        long dataStart = (reader.Position + alignment - 1) / alignment * alignment;
        foreach (var t in tensors.Where(t => t.ByteCount >= 0))
        {
            long end = dataStart + t.Offset + t.ByteCount;
            if (t.Offset > reader.Length || end > reader.Length || end < 0)
                throw new CheckpointException($"{path} is truncated: the data of tensor '{t.Name}' ends at byte {(ulong)dataStart + (ulong)t.Offset + (ulong)t.ByteCount}, past the file's end ({reader.Length} bytes).", path);
        }
        return new GgufFile(path, version, metadata, tensors, dataStart, alignment);
    }

    /// <summary>Decodes one tensor into a new CPU tensor of <paramref name="dtype"/> in PyTorch's shape (ggml's
    /// dimensions reversed); quantized types are dequantized into float32 first. An unsupported type is a one-line
    /// <see cref="CheckpointException"/> naming the tensor and its type.</summary>
    public Tensor Load(string name, ScalarType dtype) => Load(Tensor(name), dtype);

    /// <summary>Decodes the data that <paramref name="info"/> describes (one of <see cref="Tensors"/>, or a slice of one
    /// such as one expert of a stacked tensor).</summary>
    public unsafe Tensor Load(GgufTensorInfo info, ScalarType dtype)
    {
        string name = info.Name;
        RequireSupported(info);
        if (info.ByteCount > int.MaxValue)
            throw new CheckpointException($"Tensor '{name}' in {FilePath} holds {info.ByteCount} bytes; tensors over 2 GiB are not supported.", FilePath);
        try
        {
            using var map = MemoryMappedFile.CreateFromFile(FilePath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            if (view.Capacity < DataStart + info.Offset + info.ByteCount)
                throw new CheckpointException($"{FilePath} ended before the data of tensor '{name}' (it was truncated after it was opened).", FilePath);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            try
            {
                var data = new ReadOnlySpan<byte>(start + view.PointerOffset + DataStart + info.Offset, (int)info.ByteCount);
                return Decode(info, data, dtype);
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"Could not read tensor '{name}' from {FilePath}: {e.Message}", FilePath, e);
        }
    }

    /// <summary>Throws the one-line error for a tensor whose type this reader cannot decode.</summary>
    public void RequireSupported(GgufTensorInfo info)
    {
        if (!GgmlTypes.IsSupported(info.Type))
            throw new CheckpointException($"{FilePath}: tensor '{info.Name}' has type {GgmlTypes.NameOf(info.Type)}, which is not supported (supported: {GgmlTypes.Supported}).", FilePath);
    }

    private static Tensor Decode(GgufTensorInfo info, ReadOnlySpan<byte> data, ScalarType dtype)
    {
        var shape = info.Shape;
        ScalarType? plain = info.Type switch
        {
            GgmlType.F32 => ScalarType.Float32,
            GgmlType.F16 => ScalarType.Float16,
            GgmlType.BF16 => ScalarType.BFloat16,
            _ => null,
        };
        Tensor stored;
        if (plain is ScalarType storedType)
        {
            stored = torch.empty(shape, storedType, torch.CPU);
            data.CopyTo(stored.bytes);
        }
        else
        {
            var values = new float[info.ElementCount];
            GgufDequantize.Decode(info.Type, data, values);
            stored = torch.tensor(values, shape);
        }
        if (stored.dtype == dtype) return stored;
        using (stored) return stored.to_type(dtype);
    }

    /// <summary>The string value of a metadata key, or null when absent.</summary>
    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) && v.Value is string s ? s : null;

    /// <summary>Bounds-checked little-endian reads from the mapped header; running past the end is "truncated".</summary>
    private unsafe sealed class GgufReader
    {
        private readonly string _path;
        private readonly byte* _start;

        public GgufReader(string path, byte* start, long length)
        {
            _path = path;
            _start = start;
            Length = length;
        }

        public long Length { get; }
        public long Position { get; private set; }

        private byte* Take(long bytes, string what)
        {
            if (bytes < 0 || Position + bytes > Length)
                throw new CheckpointException($"{_path} is truncated or corrupted: reading {what} at byte {Position} needs {bytes} bytes, but the file has {Length}.", _path);
            var at = _start + Position;
            Position += bytes;
            return at;
        }

        public uint UInt32(string what) => *(uint*)Take(4, what);
        public ulong UInt64(string what) => *(ulong*)Take(8, what);

        /// <summary>A count of items that each take at least <paramref name="minBytesEach"/> bytes: larger than the
        /// rest of the file could hold means a corrupted header, not an allocation to attempt.</summary>
        public long Count(string what, long minBytesEach)
        {
            ulong count = UInt64(what);
            if (count > (ulong)((Length - Position) / minBytesEach))
                throw new CheckpointException($"{_path} is truncated or corrupted: {what} is {count}, more than the rest of the file ({Length - Position} bytes) could hold.", _path);
            return (long)count;
        }

        public string String(string what)
        {
            ulong length = UInt64($"the length of {what}");
            if (length > (ulong)(Length - Position))
                throw new CheckpointException($"{_path} is truncated or corrupted: {what} is {length} bytes long, past the file's end ({Length} bytes).", _path);
            var bytes = Take((long)length, what);
            try
            {
                return new UTF8Encoding(false, true).GetString(bytes, (int)length);
            }
            catch (DecoderFallbackException)
            {
                throw new CheckpointException($"{_path} is corrupted: {what} is not valid UTF-8.", _path);
            }
        }

        public GgufValue Value(GgufValueType type, string what) => type switch
        {
            GgufValueType.UInt8 => new(type, (long)*Take(1, what)),
            GgufValueType.Int8 => new(type, (long)*(sbyte*)Take(1, what)),
            GgufValueType.UInt16 => new(type, (long)*(ushort*)Take(2, what)),
            GgufValueType.Int16 => new(type, (long)*(short*)Take(2, what)),
            GgufValueType.UInt32 => new(type, (long)*(uint*)Take(4, what)),
            GgufValueType.Int32 => new(type, (long)*(int*)Take(4, what)),
            GgufValueType.Float32 => new(type, (double)*(float*)Take(4, what)),
            GgufValueType.Bool => new(type, *Take(1, what) != 0),
            GgufValueType.String => new(type, String(what)),
            GgufValueType.UInt64 => new(type, *(ulong*)Take(8, what)),
            GgufValueType.Int64 => new(type, *(long*)Take(8, what)),
            GgufValueType.Float64 => new(type, *(double*)Take(8, what)),
            GgufValueType.Array => Array(what),
            _ => throw new CheckpointException($"{_path} is corrupted: {what} has value type {(uint)type}, which GGUF does not define.", _path),
        };

        private GgufValue Array(string what)
        {
            var elementType = (GgufValueType)UInt32($"the element type of {what}");
            long count = Count($"the length of {what}", minBytesEach: 1);
            var items = new object[count];
            for (long i = 0; i < count; i++) items[i] = Value(elementType, what).Value;
            return new GgufValue(GgufValueType.Array, items, elementType);
        }
    }
}
