using System;
using System.IO;
using Xunit;

namespace LrpGen.PackageTests;

/// <summary>A project outside the repository that uses LrpGen.Models through a ProjectReference (no package, no
/// import of LrpGen.targets) gets the TorchSharp load fix: on a system whose libstdc++ lacks GLIBCXX_3.4.32 (Debian
/// 12) TorchSharp's native binding loads only when its copy in the output is patched.</summary>
public sealed class ProjectReferenceConsumerTests
{
    [Fact]
    public void TorchSharpLoadsInAProjectReferencingLrpGenModels()
    {
        string root = Path.Combine(Path.GetTempPath(), "lrpgen-projref-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        try
        {
            string models = Path.Combine(PackageTests.RepoRoot(), "src", "LrpGen.Models", "LrpGen.Models.csproj");
            File.WriteAllText(Path.Combine(root, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
                    <ProjectReference Include="{models}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(root, "Program.cs"), """
                using TorchSharp;
                var pooling = LrpGen.Models.Sentences.PoolingModes.Name(LrpGen.Models.Sentences.PoolingMode.Cls);
                using var x = torch.ones(3);
                System.Console.WriteLine($"torch loaded: {x.sum().item<float>()} {pooling}");
                """);
            var (code, output) = PackageTests.Dotnet(root, "run");
            Assert.True(code == 0, "consumer failed:\n" + output);
            Assert.Contains("torch loaded: 3 cls", output);
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}
