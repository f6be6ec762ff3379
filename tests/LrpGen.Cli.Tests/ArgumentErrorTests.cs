using System;
using System.IO;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Wrong arguments: exit code 2, a message that names the problem, no stack trace; runtime failures: exit
/// code 1; no arguments or --help: the help.</summary>
public class ArgumentErrorTests
{
    private static readonly string Llama = GoldenData.Folder("llama");

    public static TheoryData<string[], string> UsageErrors() => new()
    {
        { new[] { "explain", Llama, "--ids", "5,17", "--method", "lime" }, "--method 'lime'" },
        { new[] { "explain", Llama, "--ids", "5,x" }, "'x' is not a token id" },
        { new[] { "explain", Llama, "--ids", "5,,3" }, "empty token id" },
        { new[] { "explain", Llama, "--ids", "-5" }, "--ids" },
        { new[] { "explain", Llama, "--ids", "5", "17" }, "'17'" },
        { new[] { "explain", "/no/such/model/folder", "--ids", "5" }, "does not exist" },
        { new[] { "explain", Path.GetTempPath(), "--ids", "5" }, "config.json" },
        { new[] { "explain", Llama, "--ids", "5,17", "--target", "96" }, "--target 96" },
        { new[] { "explain", Llama, "--ids", "5,17", "--target", "-1" }, "--target '-1'" },
        { new[] { "explain", Llama, "--ids", "5,17", "--target", "abc" }, "--target 'abc'" },
        { new[] { "explain", Llama, "--ids", "5,96" }, "token id 96" },
        { new[] { "explain", Llama, "--ids", "5", "--text", "hi" }, "mutually exclusive" },
        { new[] { "explain", Llama }, "--ids" },
        { new[] { "explain", "--ids", "5" }, "explain" },
        { new[] { "explain", Llama, "--ids", "5", "--dtype", "int8" }, "--dtype 'int8'" },
        { new[] { "explain", Llama, "--ids", "5", "--device", "tpu" }, "--device 'tpu'" },
        { new[] { "explain", Llama, "--ids", "5", "--json", "/no/such/folder/out.json" }, "/no/such/folder" },
        { new[] { "explain", Llama, "--ids", "5", "--frobnicate" }, "--frobnicate" },
        { new[] { "explain", Llama, "--ids", "5", "--method" }, "--method" },
        { new[] { "summarize", Llama }, "summarize" },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void WrongArgumentsExitWith2AndNameTheProblem(string[] args, string expected)
    {
        var run = CliRun.Of(args);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains(expected, run.Stderr);
        Assert.Contains("error", run.Stderr);
        Assert.DoesNotContain("Exception", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.DoesNotContain("\u001b[", run.Stdout);
    }

    [Fact]
    public void UnreadableCheckpointIsARuntimeError()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama");
        var weights = Path.Combine(folder, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);

        var run = CliRun.Of("explain", folder, "--ids", "5,17");

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("model.safetensors", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void UnsupportedModelTypeIsARuntimeErrorNamingIt()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama");
        var config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"llama\"", "\"mamba\""));

        var run = CliRun.Of("explain", folder, "--ids", "5,17");

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("mamba", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void NoArgumentsPrintsHelp()
    {
        var run = CliRun.Of();

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Contains("Usage:", run.Stdout);
        Assert.Contains("explain", run.Stdout);
    }

    [Fact]
    public void ExplainHelpListsEveryOption()
    {
        var run = CliRun.Of("explain", "--help");

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        foreach (var option in new[] { "<model-dir>", "--ids", "--text", "--target", "--method", "attnlrp|cplrp|gradx", "--json", "--html", "--device", "--dtype", "float32|bfloat16|float16" })
            Assert.Contains(option, run.Stdout);
    }

    [Fact]
    public void VersionIsPrinted()
    {
        var run = CliRun.Of("--version");

        Assert.Equal(ExitCodes.Success, run.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", run.Stdout);
    }

    [Fact]
    public void ChoicesAreCaseInsensitive()
    {
        var run = CliRun.Of("explain", Llama, "--ids", "5, 17, 3", "--method", "GradX", "--device", "CPU", "--dtype", "Float32");

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
    }
}
