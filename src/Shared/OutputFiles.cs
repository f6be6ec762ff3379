using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace LrpGen.IO;

/// <summary>Writes output files so that a failure never changes an existing file: each file is first written
/// completely to a temporary file in its own folder (flushed to disk, so a full disk fails here) and moved into
/// place only when every file staged has been written; a failure deletes the temporary files. The move is a rename
/// within one folder, so a reader sees the old file or the complete new one, never a part.
/// This one source file is compiled into each project that writes files (see the csproj links).</summary>
internal sealed class OutputFiles : IDisposable
{
    private readonly List<(string Temp, string Final)> _staged = new();
    private bool _committed;

    /// <summary>Writes <paramref name="path"/> alone, atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        using var files = new OutputFiles();
        files.Stage(path, write);
        files.Commit();
    }

    /// <summary>The same for a writer that takes a file name (e.g. a plotting library's SavePng): it gets a temporary
    /// name in the same folder with the same extension.</summary>
    public static void WriteVia(string path, Action<string> writeToPath)
    {
        using var files = new OutputFiles();
        files.StageVia(path, writeToPath);
        files.Commit();
    }

    /// <summary>UTF-8 text without a byte-order mark, atomically.</summary>
    public static void WriteText(string path, string text) =>
        Write(path, stream =>
        {
            var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
            stream.Write(bytes, 0, bytes.Length);
        });

    /// <summary>Writes the content of <paramref name="path"/> to a temporary file now; it replaces the file at
    /// <see cref="Commit"/>.</summary>
    public void Stage(string path, Action<Stream> write) =>
        StageVia(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None);
            write(stream);
            stream.Flush(flushToDisk: true);
        });

    /// <summary><see cref="Stage"/> for a writer that takes a file name.</summary>
    public void StageVia(string path, Action<string> writeToPath)
    {
        if (_committed) throw new InvalidOperationException("these output files are already committed.");
        var final = Path.GetFullPath(path);
        var temp = TempPathFor(final);
        // Reserve the temporary name (CreateNew: never another file's); the writer then overwrites it.
        using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write)) { }
        _staged.Add((temp, final));
        writeToPath(temp);
        if (!File.Exists(temp)) throw new IOException($"nothing was written for {path}.");
    }

    /// <summary>Moves every staged file into place, each by one rename. With several files, an existing file is first
    /// copied aside, so that if a later move fails the earlier ones are undone and every file is as it was.</summary>
    public void Commit()
    {
        if (_staged.Count == 1)
        {
            File.Move(_staged[0].Temp, _staged[0].Final, overwrite: true);
        }
        else
        {
            var moved = new List<(string Final, string? Backup)>();
            string? pendingBackup = null;
            try
            {
                foreach (var (temp, final) in _staged)
                {
                    pendingBackup = null;
                    if (File.Exists(final))
                    {
                        pendingBackup = TempPathFor(final);
                        File.Copy(final, pendingBackup);
                    }
                    File.Move(temp, final, overwrite: true);
                    moved.Add((final, pendingBackup));
                }
            }
            catch
            {
                // The failed file is untouched; put back the ones already moved.
                if (pendingBackup is not null) TryDelete(pendingBackup);
                for (int i = moved.Count - 1; i >= 0; i--)
                {
                    var (final, backup) = moved[i];
                    try
                    {
                        if (backup is not null) File.Move(backup, final, overwrite: true);
                        else File.Delete(final);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                }
                throw;
            }
            foreach (var (_, backup) in moved)
                if (backup is not null) TryDelete(backup);
        }
        _committed = true;
        _staged.Clear();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Deletes the temporary files of a batch that was not committed.</summary>
    public void Dispose()
    {
        foreach (var (temp, _) in _staged) TryDelete(temp);
        _staged.Clear();
    }

    /// <summary>A fresh hidden name beside <paramref name="finalPath"/> that keeps its extension
    /// (".heat.png" -> ".heat.3f2a9c1b.tmp.png").</summary>
    public static string TempPathFor(string finalPath)
    {
        var folder = Path.GetDirectoryName(finalPath) ?? ".";
        var name = Path.GetFileNameWithoutExtension(finalPath);
        var extension = Path.GetExtension(finalPath);
        return Path.Combine(folder, $".{name}.{Guid.NewGuid().ToString("N")[..8]}.tmp{extension}");
    }

    /// <summary>Whether a file can be created in <paramref name="folder"/>: null if so, else the reason. Probes with a
    /// temporary file that is deleted at once.</summary>
    public static string? WhyNotWritable(string folder)
    {
        var probe = Path.Combine(folder, $".lrpgen-write-test.{Guid.NewGuid().ToString("N")[..8]}.tmp");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }
}
