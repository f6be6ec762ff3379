using System;
using System.Collections.Generic;
using System.IO;
using LrpGen.IO;

namespace LrpGen.Cli;

/// <summary>The files a command will write, checked before any work: each is a file name in an existing folder that
/// can be written, and no two options name the same file.</summary>
internal static class OutputTargets
{
    /// <summary>Checks the (option, path) pairs; null paths are options not given. A malformed name, a missing folder
    /// or two options naming one file is a <see cref="UsageException"/>; a folder that cannot be written is a
    /// <see cref="CliRuntimeException"/>.</summary>
    public static void Check(params (string Option, string? Path)[] outputs)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (option, path) in outputs)
        {
            if (path is null) continue;
            if (path.Length == 0 || Directory.Exists(path))
                throw new UsageException(path.Length == 0 ? $"{option} is empty; give a file name." : $"{option} '{path}' is a folder; give a file name.");
            var full = Path.GetFullPath(path);
            if (seen.TryGetValue(full, out var other))
                throw new UsageException($"{other} and {option} name the same file '{path}'; give each its own file.");
            seen[full] = option;
            var parent = Path.GetDirectoryName(full);
            if (string.IsNullOrEmpty(parent)) continue;
            if (!Directory.Exists(parent))
                throw new UsageException(File.Exists(parent)
                    ? $"{option} '{path}': {parent} is a file, not a folder."
                    : $"{option} '{path}': the folder {parent} does not exist.");
            if (OutputFiles.WhyNotWritable(parent) is { } reason)
                throw new CliRuntimeException($"{option} '{path}': cannot write in the folder {parent} ({reason.TrimEnd('.')}).");
        }
    }
}

/// <summary>A command's output files, written together: each is staged to a temporary file beside it and all are
/// moved into place at <see cref="Commit"/>, so a failing run leaves every existing file unchanged.</summary>
internal sealed class StagedOutputs : IDisposable
{
    private readonly OutputFiles _files = new();
    private readonly List<string> _paths = new();
    private readonly TextWriter _stderr;

    public StagedOutputs(TextWriter stderr) => _stderr = stderr;

    public void Add(string path, Action<Stream> write)
    {
        Guard(path, () => _files.Stage(path, write));
        _paths.Add(path);
    }

    /// <summary>For a writer that takes a file name (a plot, an image encoder).</summary>
    public void AddVia(string path, Action<string> writeToPath)
    {
        Guard(path, () => _files.StageVia(path, writeToPath));
        _paths.Add(path);
    }

    /// <summary>Moves every file into place and says so on stderr.</summary>
    public void Commit()
    {
        Guard(string.Join(", ", _paths), _files.Commit);
        foreach (var path in _paths) _stderr.WriteLine($"wrote {path}");
        _paths.Clear();
    }

    public void Dispose() => _files.Dispose();

    private void Guard(string path, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliRuntimeException($"cannot write {path}: {e.Message} (no file was changed)", e);
        }
    }
}
