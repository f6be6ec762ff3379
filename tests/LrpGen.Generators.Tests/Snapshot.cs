using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>Received/verified snapshots, named as Verify names them. On a mismatch the received file is written
/// beside the verified one and the test fails with a line diff; accepting is a deliberate step
/// (tests/accept-snapshots.sh, or renaming the file).</summary>
public static class Snapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string callerPath = "")
    {
        var dir = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        var verified = Path.Combine(dir, name + ".verified.cs");
        var received = Path.Combine(dir, name + ".received.cs");
        actual = actual.Replace("\r\n", "\n");
        var expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        Directory.CreateDirectory(dir);
        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No verified snapshot for {name}. Review {received} and accept it (tests/accept-snapshots.sh)."
            : $"Snapshot {name} differs from {verified} (received: {received}):\n{Diff(expected, actual)}");
    }

    private static string Diff(string expected, string actual)
    {
        var model = InlineDiffBuilder.Diff(expected, actual);
        var sb = new StringBuilder();
        int shown = 0;
        foreach (var line in model.Lines)
        {
            if (line.Type == ChangeType.Unchanged) continue;
            sb.Append(line.Type == ChangeType.Inserted ? "+ " : line.Type == ChangeType.Deleted ? "- " : "  ").AppendLine(line.Text);
            if (++shown == 60) { sb.AppendLine("..."); break; }
        }
        return sb.ToString();
    }
}
