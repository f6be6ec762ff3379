using System.IO;
using SkiaSharp;
using Xunit;

namespace LrpGen.Cli.Tests;

/// <summary>Issue 11, item 6: a truncated or corrupt image is an error (not half a picture explained with exit 0);
/// --out writes PNG or JPEG by its name or refuses; an image path that is a folder says so.</summary>
public class ImageInputTests
{
    private static byte[] Encoded(SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(64, 64);
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 4), (byte)(y * 4), (byte)((x * y) % 256)));
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, "in.png")]
    [InlineData(SKEncodedImageFormat.Jpeg, "in.jpg")]
    public void ATruncatedImageIsAnError(SKEncodedImageFormat format, string name)
    {
        using var temp = new TempFolder();
        var image = temp.File(name);
        var bytes = Encoded(format);
        File.WriteAllBytes(image, bytes[..(bytes.Length * 2 / 3)]);
        var json = temp.File("map.json");

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), image, "--json", json);

        Assert.True(run.ExitCode == ExitCodes.RuntimeError, run.ToString());
        Assert.Contains($"image '{image}'", run.Stderr);
        Assert.Contains("truncated", run.Stderr);
        Assert.False(File.Exists(json));
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public void AFileThatIsNoImageIsAUsageError()
    {
        using var temp = new TempFolder();
        var image = temp.File("notes.png");
        File.WriteAllText(image, "these are not pixels");

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), image);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("is not an image", run.Stderr);
    }

    [Fact]
    public void AnImagePathThatIsAFolderSaysSo()
    {
        using var temp = new TempFolder();

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), temp.Path);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains($"image '{temp.Path}' is a folder", run.Stderr);
    }

    [Theory]
    [InlineData("heat.jpg", SKEncodedImageFormat.Jpeg)]
    [InlineData("heat.JPEG", SKEncodedImageFormat.Jpeg)]
    [InlineData("heat.png", SKEncodedImageFormat.Png)]
    public void OutWritesTheFormatItsNameSays(string name, SKEncodedImageFormat format)
    {
        using var temp = new TempFolder();
        var image = temp.File("in.png");
        File.WriteAllBytes(image, Encoded(SKEncodedImageFormat.Png));
        var output = temp.File(name);

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), image, "--out", output);

        Assert.True(run.ExitCode == ExitCodes.Success, run.ToString());
        using var codec = SKCodec.Create(output);
        Assert.Equal(format, codec.EncodedFormat);
        Assert.True(codec.Info.Width >= 256);
    }

    [Theory]
    [InlineData("heat.bmp")]
    [InlineData("heat")]
    public void OutWithAnotherExtensionIsRefused(string name)
    {
        using var temp = new TempFolder();
        var output = temp.File(name);

        var run = CliRun.Of("explain-image", GoldenData.Folder("vit"), "--pixels", Path.Combine(GoldenData.Folder("vit"), "attnlrp.safetensors"), "--out", output);

        Assert.True(run.ExitCode == ExitCodes.UsageError, run.ToString());
        Assert.Contains("name the file .png or .jpg", run.Stderr);
        Assert.False(File.Exists(output));
    }
}
