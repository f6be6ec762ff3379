using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Cli.Tests;

/// <summary>Damaged inputs for the bad-input tests: model folders with edited weights or config, pixel files, a
/// stream that runs out of disk.</summary>
internal static class BadInputs
{
    /// <summary>A copy of a golden model whose tensor <paramref name="tensor"/> has <paramref name="value"/> at its
    /// first element.</summary>
    public static string ModelWithValue(TempFolder temp, string golden, string tensor, float value)
    {
        var folder = temp.ModelFolder(golden);
        var weights = Path.Combine(folder, "model.safetensors");
        var file = SafetensorsFile.Open(weights);
        var tensors = file.TensorNames.ToDictionary(n => n, n => file.Load(n));
        tensors[tensor].view(-1)[0] = TorchSharp.torch.tensor(value);
        File.Delete(weights);
        SafetensorsFile.Write(weights, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return folder;
    }

    /// <summary>A copy of a golden model with config.json's integer <paramref name="key"/> set to <paramref name="value"/>.</summary>
    public static string ModelWithConfig(TempFolder temp, string golden, string key, long value)
    {
        var folder = temp.ModelFolder(golden);
        var config = Path.Combine(folder, "config.json");
        var text = File.ReadAllText(config);
        var edited = System.Text.RegularExpressions.Regex.Replace(text, $"\"{key}\": \\d+", $"\"{key}\": {value}");
        if (edited == text) throw new InvalidOperationException($"config.json of {golden} has no integer {key}");
        File.WriteAllText(config, edited);
        return folder;
    }

    /// <summary>A --pixels file for the golden ViT: [1, 3, 32, 32] filled with <paramref name="fill"/>, with
    /// <paramref name="first"/> at element 0.</summary>
    public static string Pixels(TempFolder temp, float fill, float first)
    {
        var path = temp.File($"pixels-{Guid.NewGuid():N}.safetensors");
        using var pixels = full(new long[] { 1, 3, 32, 32 }, fill);
        pixels.view(-1)[0] = TorchSharp.torch.tensor(first);
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["pixels"] = pixels });
        return path;
    }

    /// <summary>Comma-separated ids 1, 2, ..., cycling below <paramref name="vocab"/>.</summary>
    public static string Ids(int count, int vocab = 90) => string.Join(",", Enumerable.Range(0, count).Select(i => i % vocab + 1));

    /// <summary>Existing output files with known content; returns a check that they are unchanged and that no
    /// temporary file was left beside them.</summary>
    public static Action Existing(params string[] paths)
    {
        var before = paths.ToDictionary(p => p, p => "previous content of " + Path.GetFileName(p) + "\n");
        foreach (var (path, content) in before) File.WriteAllText(path, content);
        var folders = paths.Select(Path.GetDirectoryName).Distinct().ToArray();
        var listing = folders.ToDictionary(f => f!, f => Directory.GetFiles(f!).OrderBy(x => x).ToArray());
        return () =>
        {
            foreach (var (path, content) in before)
                Xunit.Assert.True(File.ReadAllText(path) == content, $"{path} was changed: {File.ReadAllText(path).Length} characters now");
            foreach (var (folder, files) in listing)
                Xunit.Assert.Equal(files, Directory.GetFiles(folder).OrderBy(x => x).ToArray());
        };
    }
}

/// <summary>A stream that accepts <paramref name="capacity"/> bytes, then fails as a full disk does (ENOSPC).</summary>
internal sealed class FullDiskStream(Stream inner, long capacity) : Stream
{
    private long _written;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long room = Math.Max(0, capacity - _written);
        inner.Write(buffer[..(int)Math.Min(room, buffer.Length)]);
        _written += Math.Min(room, buffer.Length);
        if (buffer.Length > room) throw new IOException("No space left on device");
    }

    public override void Flush() => inner.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
