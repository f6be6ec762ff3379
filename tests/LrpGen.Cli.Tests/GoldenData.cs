using System;
using System.IO;

namespace LrpGen.Cli.Tests;

/// <summary>Where the LXT reference data lives: shared/golden beside the repository (read-only).</summary>
public static class GoldenData
{
    public static string Root([System.Runtime.CompilerServices.CallerFilePath] string path = "")
    {
        var repo = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
        foreach (var candidate in new[] { Path.Combine(repo, "..", "shared", "golden"), Path.Combine(repo, "shared", "golden") })
            if (Directory.Exists(candidate)) return Path.GetFullPath(candidate);
        throw new DirectoryNotFoundException($"The golden data (shared/golden) was not found beside {repo}.");
    }

    public static string Folder(string model) => Path.Combine(Root(), model);
}
