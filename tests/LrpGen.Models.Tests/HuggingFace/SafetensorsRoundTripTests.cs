using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.HuggingFace;

public class SafetensorsRoundTripTests
{
    public static TheoryData<ScalarType> AllDTypes => new()
    {
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    };

    /// <summary>Random bit patterns (NaN payloads, subnormals and all) must come back unchanged, byte for byte.</summary>
    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void EveryDTypeRoundTripsBitExactly(ScalarType dtype)
    {
        using var folder = new TempFolder();
        var random = new Random(1234 + (int)dtype);
        using var tensors = new TensorSet
        {
            ["matrix"] = RandomBits(random, dtype, 3, 5),
            ["scalar"] = RandomBits(random, dtype),
            ["empty"] = RandomBits(random, dtype, 0, 4),
            ["deep.name.with+odd chars"] = RandomBits(random, dtype, 2, 1, 3),
        };
        string path = folder.File("round.safetensors");
        SafetensorsFile.Write(path, tensors);

        var file = SafetensorsFile.Open(path);
        Assert.Equal(tensors.Keys.OrderBy(n => n), file.TensorNames.OrderBy(n => n));
        foreach (var (name, original) in tensors)
        {
            Assert.Equal(dtype, file.StoredType(name));
            Assert.Equal(original.shape, file.Shape(name));
            using var loaded = file.Load(name);
            Assert.Equal(dtype, loaded.dtype);
            Assert.Equal(original.shape, loaded.shape);
            Assert.Equal(DeviceType.CPU, loaded.device_type);
            Assert.Equal(original.bytes.ToArray(), loaded.bytes.ToArray());
        }
    }

    /// <summary>Reads a file whose bytes the test writes by hand, so the reader is checked against the format
    /// itself and not only against our writer: F16 0x3C00 = 1, 0xC000 = -2; BF16 0x3F80 = 1, 0xBF00 = -0.5.</summary>
    [Fact]
    public void HalfPrecisionBitsDecodeToTheRightValues()
    {
        using var folder = new TempFolder();
        string path = folder.File("half.safetensors");
        Fixtures.WriteRaw(path,
            """{"__metadata__":{"format":"pt"},"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"i":{"dtype":"I16","shape":[1],"data_offsets":[8,10]}}""",
            new byte[] { 0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0x00, 0xBF, 0xFE, 0xFF });

        var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        using var h = file.Load("h");
        using var b = file.Load("b");
        using var i = file.Load("i");
        using var hf = h.to_type(ScalarType.Float32);
        using var bf = b.to_type(ScalarType.Float32);
        Assert.Equal(ScalarType.Float16, h.dtype);
        Assert.Equal(ScalarType.BFloat16, b.dtype);
        Assert.Equal(new[] { 1f, -2f }, hf.data<float>().ToArray());
        Assert.Equal(new[] { 1f, -0.5f }, bf.data<float>().ToArray());
        Assert.Equal(new short[] { -2 }, i.data<short>().ToArray());
    }

    [Fact]
    public void WriterPacksViewsAndTransposesAsTheirValues()
    {
        using var folder = new TempFolder();
        using var source = Fixtures.Counting(0, 4, 6);
        using var tensors = new TensorSet
        {
            ["transposed"] = source.t(),
            ["narrowed"] = source.narrow(0, 1, 2),
            ["strided"] = source[.., 1..4],
        };
        string path = folder.File("views.safetensors");
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string> { ["note"] = "views" });

        var file = SafetensorsFile.Open(path);
        Assert.Equal("views", file.Metadata["note"]);
        foreach (var (name, original) in tensors)
        {
            using var loaded = file.Load(name);
            using var expected = original.contiguous();
            Assert.Equal(original.shape, loaded.shape);
            Assert.Equal(expected.data<float>().ToArray(), loaded.data<float>().ToArray());
        }
        // The header is padded so that the data starts 8-byte aligned, as the reference writer does.
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0, (long)BitConverter.ToUInt64(bytes, 0) % 8);
    }

    private static Tensor RandomBits(Random random, ScalarType dtype, params long[] shape)
    {
        var tensor = torch.empty(shape, dtype);
        random.NextBytes(tensor.bytes);
        if (dtype == ScalarType.Bool)
        {
            // Only 0 and 1 are valid bools; other bytes would be undefined behaviour in libtorch.
            var span = tensor.bytes;
            for (int k = 0; k < span.Length; k++) span[k] &= 1;
        }
        return tensor;
    }
}
