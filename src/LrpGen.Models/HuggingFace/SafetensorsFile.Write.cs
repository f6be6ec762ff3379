using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Encodings.Web;
using System.Text.Json;
using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

public sealed partial class SafetensorsFile
{
    /// <summary>Writes tensors (any device, any layout) as a safetensors file that Hugging Face can read:
    /// names in ordinal order, data packed without gaps, header padded with spaces to a multiple of 8 bytes
    /// (as the reference writer does, so the data section stays aligned).</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="tensors">Name to tensor; the tensors are only read.</param>
    /// <param name="metadata">The header's "__metadata__"; {"format": "pt"} when null, as PyTorch writers store.</param>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.OrderBy(name => name, StringComparer.Ordinal).ToList();
        byte[] header = BuildHeader(names, tensors, metadata ?? new Dictionary<string, string> { ["format"] = "pt" });

        int padding = (8 - header.Length % 8) % 8;
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(header.Length + padding));
        file.Write(prefix);
        file.Write(header);
        for (int i = 0; i < padding; i++) file.WriteByte((byte)' ');

        foreach (var name in names)
        {
            // Both calls return new handles (even when nothing moves); disposing them frees no shared storage.
            using var onCpu = tensors[name].cpu();
            using var dense = onCpu.contiguous();
            file.Write(dense.bytes);
        }
    }

    private static byte[] BuildHeader(List<string> names, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping keeps names such as "a+b" readable; the header is never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var item in metadata) json.WriteString(item.Key, item.Value);
            json.WriteEndObject();

            long offset = 0;
            foreach (var name in names)
            {
                var tensor = tensors[name] ?? throw new ArgumentException($"Tensor '{name}' is null.", nameof(tensors));
                if (!SafetensorsDType.TryGetName(tensor.dtype, out var dtypeName, out int elementSize))
                    throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors files here cannot hold (supported: {SafetensorsDType.Supported}).", nameof(tensors));
                long bytes = checked(tensor.numel() * elementSize);

                json.WriteStartObject(name);
                json.WriteString("dtype", dtypeName);
                json.WriteStartArray("shape");
                foreach (long dim in tensor.shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
