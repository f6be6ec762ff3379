using System;
using System.IO;

namespace LrpGen.TestSupport;

/// <summary>Paths in the repository the tests were built from.</summary>
public static class Repository
{
    /// <summary>The repository root (the folder with LrpGen.sln above the test binaries).</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LrpGen.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("LrpGen.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The committed recall model (examples/RecallTraining/model).</summary>
    public static string RecallModel => Path.Combine(Root, "examples", "RecallTraining", "model");
}
