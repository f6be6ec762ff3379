using System;
using System.IO;
using System.Text.Json;
using LrpGen.TestData;

namespace LrpGen.TestSupport;

/// <summary>A fresh folder under the system temp directory, deleted with everything in it at the end of the test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lrpgen-tests-" + Guid.NewGuid().ToString("N"));

    /// <summary>The path of <paramref name="name"/> in this folder (nothing is created).</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>A model folder: a golden model's config.json and model.safetensors, plus the given extra files.</summary>
    public string ModelFolder(string golden, params (string Name, string Source)[] extra)
    {
        var dir = System.IO.Path.Combine(Path, golden + "-model");
        Directory.CreateDirectory(dir);
        foreach (var name in new[] { "config.json", "model.safetensors" })
            System.IO.File.Copy(System.IO.Path.Combine(GoldenData.Folder(golden), name), System.IO.Path.Combine(dir, name));
        foreach (var (name, source) in extra)
            System.IO.File.Copy(source, System.IO.Path.Combine(dir, name));
        return dir;
    }

    public static JsonDocument ReadJson(string path) => JsonDocument.Parse(System.IO.File.ReadAllText(path));

    public void Dispose()
    {
        // A file still open elsewhere must not fail the test that made it: the folder is in the temp directory.
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
