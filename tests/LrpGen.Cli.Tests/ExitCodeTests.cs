using System;
using System.IO;
using System.Linq;
using LrpGen.Models.HuggingFace;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Only the CLI's own argument errors exit 2 (with a pointer to the command's help); a model or file that
/// fails to load, or an argument exception from inside a model, exits 1. Either way one line, no stack trace.</summary>
public class ExitCodeTests
{
    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    [Theory]
    [InlineData(new[] { "explain", "--ids", "5" }, "lrpgen explain")]                               // parse: no <model-dir>
    [InlineData(new[] { "explain", "/no/such/folder", "--ids", "5,x" }, "lrpgen explain")]          // parse: custom parser
    [InlineData(new[] { "explain", "/no/such/folder", "--ids", "5" }, "lrpgen explain")]            // the command's own check
    [InlineData(new[] { "similarity", "only one" }, "lrpgen similarity")]                          // the command's own check
    [InlineData(new[] { "evaluate", "recall", "--seed", "-1" }, "lrpgen evaluate recall")]         // parse, nested command
    [InlineData(new[] { "evaluate" }, "lrpgen evaluate")]                                          // no subcommand
    [InlineData(new[] { "summarize" }, "lrpgen")]                                                  // no such command
    public void ArgumentErrorsExit2WithOneLineEachAndTheCommandsHelp(string[] args, string command)
    {
        var run = CliRun.Plain(args);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        var lines = Lines(run.Stderr);
        Assert.All(lines[..^1], line => Assert.StartsWith($"{command}: error: ", line));
        Assert.Equal($"Run '{command} --help' for its arguments and options.", lines[^1]);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void AModelThatDoesNotLoadExits1WithOneLineAndNoHelpPointer()
    {
        using var temp = new TempFolder();
        var folder = temp.ModelFolder("llama");
        var config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"rope_type\": \"default\"", "\"rope_type\": \"yarn\""));

        var run = CliRun.Plain("explain", folder, "--ids", "5,17");

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        var errors = Lines(run.Stderr).Where(l => l.Contains("error", StringComparison.Ordinal)).ToArray();
        Assert.Equal($"lrpgen explain: error: {config}: rope type 'yarn' is not supported (default, linear, llama3, longrope).", Assert.Single(errors));
        Assert.DoesNotContain("--help", run.Stderr);
    }

    [Fact]
    public void AnArgumentExceptionFromInsideAModelExits1()
    {
        var stderr = new StringWriter();

        int code = CommandFailures.Report(new ArgumentException("token ids must be in [0, 96); got 0..200.", "ids"), "lrpgen explain", stderr);

        Assert.Equal(ExitCodes.RuntimeError, code);
        Assert.Equal(new[] { "lrpgen explain: error: token ids must be in [0, 96); got 0..200. (Parameter 'ids')" }, Lines(stderr.ToString()));
    }

    [Fact]
    public void ACheckpointErrorAndARuntimeErrorExit1AndOnlyAUsageErrorExits2()
    {
        foreach (var (failure, expected) in new (Exception, int)[]
        {
            (new ArgumentOutOfRangeException("steps", "must be at least 1."), ExitCodes.RuntimeError),
            (new CheckpointException("model.safetensors is truncated.", "model.safetensors"), ExitCodes.RuntimeError),
            (new CliRuntimeException("cannot write out.json: disk full (no file was changed)"), ExitCodes.RuntimeError),
            (new InvalidOperationException("unexpected\n   at Frame()"), ExitCodes.RuntimeError),
            (new UsageException("--target 96 is outside the model's vocabulary [0, 96)."), ExitCodes.UsageError),
        })
        {
            var stderr = new StringWriter();
            Assert.Equal(expected, CommandFailures.Report(failure, "lrpgen explain", stderr));
            var lines = Lines(stderr.ToString());
            Assert.Equal(expected == ExitCodes.UsageError ? 2 : 1, lines.Length);
            Assert.StartsWith("lrpgen explain: error: ", lines[0]);
            Assert.DoesNotContain("   at ", stderr.ToString());
        }
    }
}
