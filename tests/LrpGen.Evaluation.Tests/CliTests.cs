using System;
using System.IO;
using System.Linq;
using LrpGen.Cli;
using Xunit;

namespace LrpGen.Evaluation.Tests;

/// <summary>Reduced runs of `lrpgen evaluate` (a few examples, few steps): the pipeline end to end, not the scores.</summary>
public class CliTests
{
    private static readonly string[] Fast = { "--ig-steps", "4", "--smoothgrad-samples", "3" };

    private static void AssertTable(CliRun run, string name, TempFolder folder, string doc)
    {
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        foreach (var method in AttributionMethods.All)
            Assert.Contains(AttributionMethods.Label(method), run.Stdout);
        foreach (var ext in new[] { ".csv", ".md", ".png" })
            Assert.True(new FileInfo(folder.File(name + ext)).Length > 0, name + ext);
        var png = File.ReadAllBytes(folder.File(name + ".png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4));
        var csv = File.ReadAllLines(folder.File(name + ".csv"));
        Assert.Equal(1 + AttributionMethods.All.Count, csv.Length);
        var text = File.ReadAllText(doc);
        Assert.Contains($"<!-- lrpgen-evaluate:{name} -->", text);
        Assert.Contains($"<!-- /lrpgen-evaluate:{name} -->", text);
        Assert.Contains("lrpgen evaluate", text);
        Assert.Contains($"]({name}.png)", text);
        Assert.Contains("examples", run.Stderr);   // progress
    }

    [Fact]
    public void RecallPlausibilityReducedRun()
    {
        using var folder = new TempFolder();
        var doc = folder.File("evaluation.md");
        File.WriteAllText(doc, "# Evaluation\n\nText before.\n");
        var run = CliRun.Plain(new[] { "evaluate", "recall", "--examples", "4", "--model", Repository.RecallModel, "--output", folder.Path, "--doc", doc }.Concat(Fast).ToArray());
        AssertTable(run, "recall-plausibility", folder, doc);
        foreach (var column in EvaluationReport.RecallHeader) Assert.Contains(column, run.Stdout);
        Assert.Contains("minus the mean logit of the queried key's three other values", run.Stdout);
        Assert.StartsWith("# Evaluation\n\nText before.\n", File.ReadAllText(doc));
        // A second run replaces the section instead of adding one.
        run = CliRun.Plain(new[] { "evaluate", "recall", "--examples", "2", "--methods", "attnlrp,random", "--model", Repository.RecallModel, "--output", folder.Path, "--doc", doc }.Concat(Fast).ToArray());
        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        var text = File.ReadAllText(doc);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "<!-- lrpgen-evaluate:recall-plausibility -->"));
        Assert.Contains("--examples 2", text);
        // Every file was moved into place from a temporary file beside it: none is left.
        Assert.Empty(Directory.GetFiles(folder.Path, ".*.tmp*"));
    }

    [Fact]
    public void AFailingRunLeavesExistingResultsUnchanged()
    {
        using var folder = new TempFolder();
        var csv = folder.File("recall-plausibility.csv");
        File.WriteAllText(csv, "an earlier table\n");
        // A folder in place of the PNG: the CSV and Markdown are staged, the plot cannot be moved into place, and nothing is replaced.
        Directory.CreateDirectory(folder.File("recall-plausibility.png"));

        var run = CliRun.Plain(new[] { "evaluate", "recall", "--examples", "2", "--methods", "attnlrp,random", "--model", Repository.RecallModel, "--output", folder.Path }.Concat(Fast).ToArray());

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Equal("an earlier table\n", File.ReadAllText(csv));
        Assert.False(File.Exists(folder.File("recall-plausibility.md")));
        Assert.Empty(Directory.GetFiles(folder.Path, ".*.tmp*"));
    }

    [Fact]
    public void RecallFaithfulnessReducedRun()
    {
        using var folder = new TempFolder();
        var doc = folder.File("evaluation.md");
        var run = CliRun.Plain(new[] { "evaluate", "faithfulness", "--task", "recall", "--examples", "3", "--model", Repository.RecallModel, "--output", folder.Path, "--doc", doc }.Concat(Fast).ToArray());
        AssertTable(run, "faithfulness-recall", folder, doc);
        Assert.Contains("ABPC", run.Stdout);
        Assert.True(File.Exists(folder.File("faithfulness-recall-curves.csv")));
    }

    [Fact]
    public void SimilarityFaithfulnessReducedRun()
    {
        // Three synsets in WordNet's format, so the test does not need the wordnet-base package.
        using var folder = new TempFolder();
        var wordnet = Directory.CreateDirectory(folder.File("wordnet")).FullName;
        File.WriteAllText(Path.Combine(wordnet, "data.noun"),
            "  1 This software and database is being provided to you, the LICENSEE, by\n" +
            "00000001 04 n 01 cold_turkey 0 000 | abrupt withdrawal; \"he quit smoking cold turkey\"; \"she quit her job cold turkey\"  \n" +
            "00000002 04 n 01 bankruptcy 0 000 | inability to pay; \"the company had to declare bankruptcy\"; \"fraudulent loans led to the failure of many banks\"  \n");
        File.WriteAllText(Path.Combine(wordnet, "data.verb"),
            "00000003 04 v 01 run 0 000 | move fast; \"the children ran to the store\"; \"don't run or you will be out of breath\"  \n");
        File.WriteAllText(Path.Combine(wordnet, "data.adj"), "");
        File.WriteAllText(Path.Combine(wordnet, "data.adv"), "");
        var doc = folder.File("evaluation.md");
        var run = CliRun.Plain(new[] { "evaluate", "faithfulness", "--examples", "2", "--wordnet", wordnet, "--output", folder.Path, "--doc", doc }.Concat(Fast).ToArray());
        AssertTable(run, "faithfulness-similarity", folder, doc);
        Assert.Contains("2 WordNet example-sentence pairs", run.Stdout);
    }

    [Theory]
    [InlineData("unknown", "--methods", "attnlrp,foo")]
    [InlineData("integer >= 1", "--examples", "0")]
    [InlineData("integer", "--ig-steps", "x")]
    [InlineData("integer", "--smoothgrad-samples", "0")]
    [InlineData("number", "--smoothgrad-noise", "-1")]
    [InlineData("similarity, recall", "--task", "vision")]
    public void ArgumentErrorsExitWithUsage(string message, string option, string value)
    {
        var run = CliRun.Plain("evaluate", "faithfulness", option, value);
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains(option, run.Stderr);
        Assert.Contains(message.Split(' ')[0] == "unknown" ? "is not a method" : message, run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void MissingModelOrDocWithoutOutputIsAUsageError()
    {
        using var folder = new TempFolder();
        var run = CliRun.Plain("evaluate", "recall", "--model", folder.File("nothing"));
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("config.json", run.Stderr);
        run = CliRun.Plain("evaluate", "recall", "--model", Repository.RecallModel, "--doc", folder.File("e.md"));
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("--doc needs --output", run.Stderr);
        run = CliRun.Plain("evaluate", "recall", "--task", "recall");
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        run = CliRun.Plain("evaluate");
        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
    }

    [Fact]
    public void MissingWordNetSaysWhatToInstall()
    {
        using var folder = new TempFolder();
        var run = CliRun.Plain("evaluate", "faithfulness", "--wordnet", folder.Path, "--examples", "1");
        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains("apt-get install wordnet-base", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public void HelpListsTheOptions()
    {
        var run = CliRun.Plain("evaluate", "faithfulness", "--help");
        Assert.Equal(ExitCodes.Success, run.ExitCode);
        foreach (var option in new[] { "--task", "--examples", "--methods", "--ig-steps", "--smoothgrad-samples", "--smoothgrad-noise", "--seed", "--model", "--wordnet", "--output", "--doc" })
            Assert.Contains(option, run.Stdout);
    }

    [Fact]
    public void SettingsRejectBadValues()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionSettings { IgSteps = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionSettings { SmoothGradSamples = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new AttributionSettings { SmoothGradNoise = double.NaN });
        Assert.Throws<ArgumentException>(() => AttributionMethods.ParseList("attnlrp,nope"));
        Assert.Equal(AttributionMethods.All, AttributionMethods.ParseList("all"));
        Assert.Equal(new[] { AttributionMethod.IntegratedGradients, AttributionMethod.Random }, AttributionMethods.ParseList("IG, random"));
    }
}
