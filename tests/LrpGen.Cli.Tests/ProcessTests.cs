using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>The built program itself, as the acceptance checks call it: exit codes and streams across a process
/// boundary, TorchSharp's and the tokenizer's native libraries loading in a fresh process.</summary>
public class ProcessTests
{
    private static CliRun Exec(params string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "LrpGen.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "lrpgen did not finish in 2 minutes");
        return new CliRun(process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>lrpgen with a pseudo-terminal as stdout, as in an interactive shell: script(1) (util-linux) runs it
    /// and copies what the terminal received.</summary>
    private static string OnATerminal(string? noColor, params string[] args)
    {
        static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var command = string.Join(" ", new[] { dotnet, "exec", Path.Combine(AppContext.BaseDirectory, "LrpGen.Cli.dll") }.Concat(args).Select(Quote));
        var start = new ProcessStartInfo("script")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--quiet", "--return", "--command", command, "/dev/null" }) start.ArgumentList.Add(a);
        start.Environment.Remove("NO_COLOR");
        if (noColor is not null) start.Environment["NO_COLOR"] = noColor;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "lrpgen did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{output}\n{stderr.Result}");
        return output;
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("1", false)]
    public void OnATerminalColoursAreOnUnlessNoColorIsSet(string? noColor, bool coloured)
    {
        var output = OnATerminal(noColor, "explain", GoldenData.Folder("llama"), "--ids", "5,17,3");

        Assert.Contains("target: ", output);
        Assert.Equal(coloured, output.Contains("\u001b[48;2;", StringComparison.Ordinal));
    }

    [Fact]
    public void ExplainRunsAsAProgram()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama", ("tokenizer.json", Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer.json")));
        var json = temp.File("out.json");

        var run = Exec("explain", folder, "--text", "the cat sat on the", "--json", json);

        Assert.True(run.ExitCode == 0, run.ToString());
        // stdout is a pipe here: no colours, the values carry the heatmap.
        Assert.DoesNotContain("\u001b[", run.Stdout);
        Assert.Contains("relevance", run.Stdout);
        Assert.Contains("target: ", run.Stdout);
        Assert.Contains("loaded", run.Stderr);
        Assert.True(File.Exists(json));
    }

    [Fact]
    public void WrongArgumentsExitWith2AsAProgram()
    {
        var run = Exec("explain", GoldenData.Folder("llama"), "--ids", "5,x");

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("'x' is not a token id", run.Stderr);
        Assert.Equal("", run.Stdout);
    }
}
