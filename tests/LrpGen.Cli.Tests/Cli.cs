using System;
using System.IO;
using System.Text.Json;

namespace LrpGen.Cli.Tests;

/// <summary>Runs lrpgen in-process and captures what it prints.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>With colours, as on a terminal.</summary>
    public static CliRun Of(params string[] args) => Run(args, colour: true);

    /// <summary>Without colours, as when stdout is redirected or NO_COLOR is set.</summary>
    public static CliRun Plain(params string[] args) => Run(args, colour: false);

    private static CliRun Run(string[] args, bool colour)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = LrpGenCli.Run(args, stdout, stderr, colour);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>A temporary folder deleted at the end of the test.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lrpgen-cli-tests-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

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
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
