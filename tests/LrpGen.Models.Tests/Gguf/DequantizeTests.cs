using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using LLama.Native;
using LrpGen.Models.Gguf;
using Xunit;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>Our dequantization against ggml's own: data quantized by ggml_quantize_chunk (llama.cpp's quantizer) and
/// decoded by ggml's dequantize_row_* must decode to the same floats with ours, for every quantized type we read.</summary>
public unsafe class DequantizeTests
{
    /// <summary>The libggml-base.so that LLamaSharp loaded (found in /proc/self/maps), so the functions are those of
    /// the llama.cpp build the reference tests run.</summary>
    private static IntPtr Ggml()
    {
        NativeApi.llama_max_devices();
        var path = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault())
            .FirstOrDefault(p => p is not null && p.EndsWith("/libggml-base.so", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("libggml-base.so is not loaded.");
        return NativeLibrary.Load(path);
    }

    public static TheoryData<GgmlType, string> Types() => new()
    {
        { GgmlType.Q4_0, "dequantize_row_q4_0" },
        { GgmlType.Q4_1, "dequantize_row_q4_1" },
        { GgmlType.Q5_0, "dequantize_row_q5_0" },
        { GgmlType.Q5_1, "dequantize_row_q5_1" },
        { GgmlType.Q8_0, "dequantize_row_q8_0" },
        { GgmlType.Q4_K, "dequantize_row_q4_K" },
        { GgmlType.Q5_K, "dequantize_row_q5_K" },
        { GgmlType.Q6_K, "dequantize_row_q6_K" },
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void DecodesAsGgml(GgmlType type, string dequantizer)
    {
        const int rows = 6, perRow = 512;
        var random = new Random((int)type);
        // Rows of different scales and signs, with an outlier in each, so scales and minimums vary between blocks.
        var source = new float[rows * perRow];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < perRow; i++)
                source[r * perRow + i] = (float)((random.NextDouble() * 2 - 1 + (r % 2 == 0 ? 0.3 : -0.2)) * Math.Pow(10, r - 3) * (i % 97 == 5 ? 8 : 1));
        var ggml = Ggml();
        var quantize = (delegate* unmanaged<int, float*, byte*, long, long, long, float*, nuint>)NativeLibrary.GetExport(ggml, "ggml_quantize_chunk");
        var decode = (delegate* unmanaged<byte*, float*, long, void>)NativeLibrary.GetExport(ggml, dequantizer);

        var (block, blockBytes) = GgmlTypes.LayoutOf(type);
        var bytes = new byte[rows * perRow / block * blockBytes];
        var expected = new float[source.Length];
        fixed (float* src = source)
        fixed (byte* dst = bytes)
        fixed (float* y = expected)
        {
            nuint written = quantize((int)type, src, dst, 0, rows, perRow, null);
            Assert.Equal((nuint)bytes.Length, written);
            decode(dst, y, source.Length);
        }

        var ours = new float[source.Length];
        GgufDequantize.Decode(type, bytes, ours);
        // ggml's C may fuse a multiply-add where C# rounds twice: one float32 rounding apart at most.
        for (int i = 0; i < ours.Length; i++)
            Assert.True(Math.Abs(ours[i] - expected[i]) <= 2.5e-7 * Math.Max(1e-30, Math.Abs(expected[i])) + 1e-7 * Math.Pow(10, i / perRow - 3),
                $"{type} value {i}: ours {ours[i]:R}, ggml {expected[i]:R}");
        // And the decoding means something: close to what was quantized (4 bits: within a few percent of each row's range).
        for (int r = 0; r < rows; r++)
        {
            var row = Enumerable.Range(r * perRow, perRow);
            double range = row.Max(i => Math.Abs(source[i]));
            double error = row.Max(i => Math.Abs(source[i] - ours[i]));
            Assert.True(error <= 0.2 * range, $"{type} row {r}: max error {error:E2} against range {range:E2}");
        }
    }
}
