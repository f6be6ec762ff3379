using System;
using System.IO;

namespace LrpGen.TestData;

/// <summary>Where the LXT reference data lives: tests/golden, copied beside the test assembly by
/// tests/golden/GoldenData.props, which a test project imports (so a test reads what was built with it, wherever the tests run).</summary>
public static class GoldenData
{
    public static string Root()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "golden");
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The golden data was not found at {root}: the test project must import tests/golden/GoldenData.props.");
        return root;
    }

    public static string Folder(string model)
    {
        var folder = Path.Combine(Root(), model);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"There is no golden model '{model}' in {Root()}.");
        return folder;
    }
}
