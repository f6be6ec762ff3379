using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace LrpGen.PackageTests;

/// <summary>The package as users get it: `dotnet pack` of the solution, then a fresh console project outside the
/// repository that references LrpGen from a local folder (plus TorchSharp-cpu) builds, sees the generated
/// LrpForward, computes relevance that matches autograd, and fails to build with an LRP error for an
/// operation without a rule.</summary>
public sealed class PackageTests : IClassFixture<PackageTests.PackedPackage>
{
    private readonly PackedPackage _package;

    public PackageTests(PackedPackage package) => _package = package;

    public sealed class PackedPackage : IDisposable
    {
        public readonly string Version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        public readonly string Root = Path.Combine(Path.GetTempPath(), "lrpgen-package-" + Guid.NewGuid().ToString("N"));
        public string Feed => Path.Combine(Root, "feed");

        public PackedPackage()
        {
            Directory.CreateDirectory(Feed);
            var (code, output) = Dotnet(RepoRoot(), $"pack LrpGen.sln -c Release -o \"{Feed}\" -p:Version={Version}");
            Assert.True(code == 0, "dotnet pack failed:\n" + output);
        }

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
            // Each run packs a unique version; remove it from the NuGet cache again.
            var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "lrpgen", Version);
            try { if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true); } catch (IOException) { }
        }

        public string NewConsumer(string name, Func<string, string>? editProgram = null)
        {
            var dir = Path.Combine(Root, name);
            Directory.CreateDirectory(dir);
            var template = Path.Combine(AppContext.BaseDirectory, "Consumer");
            File.WriteAllText(Path.Combine(dir, "Consumer.csproj"), File.ReadAllText(Path.Combine(template, "Consumer.csproj.template")).Replace("$VERSION$", Version));
            File.WriteAllText(Path.Combine(dir, "nuget.config"), File.ReadAllText(Path.Combine(template, "nuget.config.template")).Replace("$FEED$", Feed));
            var program = File.ReadAllText(Path.Combine(template, "Program.cs"));
            File.WriteAllText(Path.Combine(dir, "Program.cs"), editProgram is null ? program : editProgram(program));
            return dir;
        }
    }

    [Fact]
    public void PackageContainsRuntimeGeneratorAndBuildFix()
    {
        var nupkg = Directory.GetFiles(_package.Feed, $"LrpGen.{_package.Version}.nupkg").Single();
        using var zip = System.IO.Compression.ZipFile.OpenRead(nupkg);
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.Contains("lib/net8.0/LrpGen.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/LrpGen.Generators.dll", entries);
        Assert.Contains("build/LrpGen.targets", entries);
        Assert.Contains("buildTransitive/LrpGen.targets", entries);
        // The solution also packs LrpGen.Models (the ready models); the command-line tool is packed on its own.
        Assert.DoesNotContain(Directory.GetFiles(_package.Feed, "*.nupkg"), f => Path.GetFileName(f).StartsWith("LrpGen.Cli", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelsPackageKeepsLrpGensBuildAssetsSoTheTorchSharpFixReachesItsUsers()
    {
        var nupkg = Directory.GetFiles(_package.Feed, $"LrpGen.Models.{_package.Version}.nupkg").Single();
        using var zip = System.IO.Compression.ZipFile.OpenRead(nupkg);
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var reader = new StreamReader(nuspec.Open());
        var xml = System.Xml.Linq.XDocument.Parse(reader.ReadToEnd());
        var dependency = xml.Descendants().Single(e => e.Name.LocalName == "dependency" && (string?)e.Attribute("id") == "LrpGen");
        // NuGet's default for a project dependency is exclude="Build,Analyzers", which would drop buildTransitive/LrpGen.targets.
        var exclude = (string?)dependency.Attribute("exclude") ?? "";
        Assert.DoesNotContain("Build", exclude, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void FreshConsoleProjectComputesRelevanceThatMatchesAutograd()
    {
        var dir = _package.NewConsumer("works");
        var (code, output) = Dotnet(dir, "run -c Release");
        Assert.True(code == 0, "consumer failed:\n" + output);
        Assert.Contains("inputs: text, image", output);
        var match = Regex.Match(output, @"autograd reference: ([0-9.E+-]+)");
        Assert.True(match.Success, output);
        Assert.True(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= 1e-6, output);
    }

    [Fact]
    public void OperationWithoutRuleFailsTheBuildAtItsLine()
    {
        const string marker = "return h + torch.sigmoid(gate.call(h)) * mlp;";
        var dir = _package.NewConsumer("fails", p => p.Replace(marker, "return h.cumsum(1) + torch.sigmoid(gate.call(h)) * mlp;"));
        int line = File.ReadAllLines(Path.Combine(dir, "Program.cs")).ToList().FindIndex(l => l.Contains("h.cumsum(1)")) + 1;
        var (code, output) = Dotnet(dir, "build -c Release");
        Assert.NotEqual(0, code);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, $@"Program\.cs\({line},\d+\): error LRP003: 'cumsum' is reached by relevance"), output);
        // Only the LRP error: the generated stub keeps the call to LrpForward compiling.
        Assert.DoesNotContain("error CS", output);
    }

    internal static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    internal static (int Code, string Output) Dotnet(string workingDirectory, string arguments)
    {
        var psi = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out: dotnet " + arguments);
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
