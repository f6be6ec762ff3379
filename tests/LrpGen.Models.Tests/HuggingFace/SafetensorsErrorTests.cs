using System.IO;
using LrpGen.Models.HuggingFace;
using Xunit;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>Every broken file is a CheckpointException whose message names the file and, where one is involved,
/// the tensor.</summary>
public class SafetensorsErrorTests
{
    private const string OneTensor = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";

    [Fact]
    public void TruncatedFileNamesTheFileAndTheTensorPastTheEnd()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");
        using (var tensors = Fixtures.TinyTensors()) SafetensorsFile.Write(path, tensors);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);   // an interrupted download

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'norm.weight'", error.Message);   // ordinal order: norm.weight's bytes come last
        Assert.Contains("truncated", error.Message);
        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public void FileCutInsideTheHeaderIsTruncated()
    {
        using var folder = new TempFolder();
        string path = folder.File("cut.safetensors");
        using (var tensors = Fixtures.TinyTensors()) SafetensorsFile.Write(path, tensors);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void FileShorterThanTheLengthPrefixIsTruncated()
    {
        using var folder = new TempFolder();
        string path = folder.File("tiny.safetensors");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void HeaderOffsetsOutOfRangeNameTheTensor()
    {
        using var folder = new TempFolder();
        string path = folder.File("range.safetensors");
        // Consistent size (16 bytes = 2x2 F32), but only 8 data bytes follow the header.
        Fixtures.WriteRaw(path, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", new byte[8]);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'b'", error.Message);
        Assert.Contains("[8, 24]", error.Message);
    }

    [Fact]
    public void HeaderThatIsNotJsonNamesTheFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("garbage.safetensors");
        Fixtures.WriteRaw(path, "{not json", new byte[16]);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("not valid JSON", error.Message);
    }

    [Fact]
    public void OverlappingTensorsAreNamedBoth()
    {
        using var folder = new TempFolder();
        string path = folder.File("overlap.safetensors");
        Fixtures.WriteRaw(path, """{"first":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"second":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'first'", error.Message);
        Assert.Contains("'second'", error.Message);
        Assert.Contains("overlap", error.Message);
    }

    [Fact]
    public void SizeThatDoesNotMatchDTypeAndShapeNamesTheTensor()
    {
        using var folder = new TempFolder();
        string path = folder.File("size.safetensors");
        Fixtures.WriteRaw(path, """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}""", new byte[16]);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'w'", error.Message);
        Assert.Contains("need 24", error.Message);
    }

    [Fact]
    public void UnknownDTypeNamesTheTensorAndTheDType()
    {
        using var folder = new TempFolder();
        string path = folder.File("dtype.safetensors");
        Fixtures.WriteRaw(path, OneTensor.Replace("F32", "F8_E4M3"), new byte[16]);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'w'", error.Message);
        Assert.Contains("'F8_E4M3'", error.Message);
    }

    [Fact]
    public void LoadingAnAbsentTensorNamesTheFileAndTheTensor()
    {
        using var folder = new TempFolder();
        string path = folder.File("one.safetensors");
        Fixtures.WriteRaw(path, OneTensor, new byte[16]);

        var file = SafetensorsFile.Open(path);
        var error = Assert.Throws<CheckpointException>(() => file.Load("v"));
        Assert.Contains(path, error.Message);
        Assert.Contains("'v'", error.Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        using var folder = new TempFolder();
        string path = folder.File("absent.safetensors");

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("does not exist", error.Message);
    }
}
