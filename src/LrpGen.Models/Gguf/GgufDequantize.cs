using System;
using System.Buffers.Binary;
using System.Threading.Tasks;

namespace LrpGen.Models.Gguf;

/// <summary>Dequantization of ggml's block formats into float32, following the block layouts of ggml-common.h and the
/// reference dequantize_row_* functions of ggml-quants.c (the tests compare with llama.cpp's own decoder bit for bit).
/// 32-value blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) store an f16 scale d (and minimum m); x = d * q (+ m). 256-value
/// "K" super-blocks (Q4_K, Q5_K, Q6_K) store 6-bit (Q4_K, Q5_K) or 8-bit (Q6_K) scales of 32- or 16-value sub-blocks.</summary>
public static class GgufDequantize
{
    /// <summary>Decodes <paramref name="data"/> (whole blocks of <paramref name="type"/>) into <paramref name="output"/>.</summary>
    public static void Decode(GgmlType type, ReadOnlySpan<byte> data, Span<float> output)
    {
        var (blockSize, blockBytes) = GgmlTypes.LayoutOf(type);
        long blocks = output.Length / blockSize;
        if (output.Length % blockSize != 0 || data.Length != blocks * blockBytes)
            throw new ArgumentException($"{type}: {data.Length} bytes do not hold {output.Length} values.");
        BlockDecoder decode = type switch
        {
            GgmlType.Q4_0 => Q4_0,
            GgmlType.Q4_1 => Q4_1,
            GgmlType.Q5_0 => Q5_0,
            GgmlType.Q5_1 => Q5_1,
            GgmlType.Q8_0 => Q8_0,
            GgmlType.Q4_K => Q4_K,
            GgmlType.Q5_K => Q5_K,
            GgmlType.Q6_K => Q6_K,
            _ => throw new ArgumentException($"{type} is not a quantized type this decoder knows."),
        };
        unsafe
        {
            fixed (byte* src = data)
            fixed (float* dst = output)
            {
                byte* s = src;
                float* d = dst;
                // Blocks are independent: decode them in chunks on all cores (a 1B model has ~5M blocks).
                const int Chunk = 4096;
                long chunks = (blocks + Chunk - 1) / Chunk;
                Parallel.For(0, chunks, c =>
                {
                    long end = Math.Min(blocks, (c + 1) * Chunk);
                    for (long b = c * Chunk; b < end; b++)
                        decode(new ReadOnlySpan<byte>(s + b * blockBytes, blockBytes), new Span<float>(d + b * blockSize, blockSize));
                });
            }
        }
    }

    private delegate void BlockDecoder(ReadOnlySpan<byte> block, Span<float> y);

    private static float Half(ReadOnlySpan<byte> bytes, int at) => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(at, 2));

    // block_q4_0 { f16 d; u8 qs[16]; }: value j in the low nibble of qs[j], value j + 16 in its high nibble; q - 8.
    private static void Q4_0(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0);
        var qs = b.Slice(2, 16);
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0x0F) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    // block_q4_1 { f16 d; f16 m; u8 qs[16]; }: q * d + m.
    private static void Q4_1(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0), m = Half(b, 2);
        var qs = b.Slice(4, 16);
        for (int j = 0; j < 16; j++)
        {
            y[j] = (qs[j] & 0x0F) * d + m;
            y[j + 16] = (qs[j] >> 4) * d + m;
        }
    }

    // block_q5_0 { f16 d; u8 qh[4]; u8 qs[16]; }: the fifth bit of value j is bit j of qh; q - 16.
    private static void Q5_0(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(2, 4));
        var qs = b.Slice(6, 16);
        for (int j = 0; j < 16; j++)
        {
            int high0 = (int)((qh >> j) << 4) & 0x10;
            int high1 = (int)(qh >> (j + 12)) & 0x10;
            y[j] = (((qs[j] & 0x0F) | high0) - 16) * d;
            y[j + 16] = (((qs[j] >> 4) | high1) - 16) * d;
        }
    }

    // block_q5_1 { f16 d; f16 m; u8 qh[4]; u8 qs[16]; }: q * d + m.
    private static void Q5_1(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0), m = Half(b, 2);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(4, 4));
        var qs = b.Slice(8, 16);
        for (int j = 0; j < 16; j++)
        {
            int high0 = (int)((qh >> j) << 4) & 0x10;
            int high1 = (int)(qh >> (j + 12)) & 0x10;
            y[j] = ((qs[j] & 0x0F) | high0) * d + m;
            y[j + 16] = ((qs[j] >> 4) | high1) * d + m;
        }
    }

    // block_q8_0 { f16 d; i8 qs[32]; }.
    private static void Q8_0(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0);
        for (int j = 0; j < 32; j++) y[j] = (sbyte)b[2 + j] * d;
    }

    /// <summary>The 6-bit scale and minimum of sub-block <paramref name="j"/> (0..7) packed in 12 bytes (get_scale_min_k4).</summary>
    private static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q)
    {
        if (j < 4) return (q[j] & 63, q[j + 4] & 63);
        return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }

    // block_q4_K { f16 d; f16 dmin; u8 scales[12]; u8 qs[128]; }: eight 32-value sub-blocks, x = d * sc * q - dmin * m.
    private static void Q4_K(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0), min = Half(b, 2);
        var scales = b.Slice(4, 12);
        var q = b.Slice(16, 128);
        int o = 0, s = 0;
        for (int j = 0; j < 256; j += 64)
        {
            var (sc1, m1) = ScaleMin(s, scales);
            var (sc2, m2) = ScaleMin(s + 1, scales);
            float d1 = d * sc1, min1 = min * m1, d2 = d * sc2, min2 = min * m2;
            for (int l = 0; l < 32; l++) y[o + l] = d1 * (q[l] & 0x0F) - min1;
            for (int l = 0; l < 32; l++) y[o + 32 + l] = d2 * (q[l] >> 4) - min2;
            q = q.Slice(32);
            o += 64;
            s += 2;
        }
    }

    // block_q5_K { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]; }: as Q4_K with a fifth bit from qh.
    private static void Q5_K(ReadOnlySpan<byte> b, Span<float> y)
    {
        float d = Half(b, 0), min = Half(b, 2);
        var scales = b.Slice(4, 12);
        var qh = b.Slice(16, 32);
        var ql = b.Slice(48, 128);
        int o = 0, s = 0;
        int u1 = 1, u2 = 2;
        for (int j = 0; j < 256; j += 64)
        {
            var (sc1, m1) = ScaleMin(s, scales);
            var (sc2, m2) = ScaleMin(s + 1, scales);
            float d1 = d * sc1, min1 = min * m1, d2 = d * sc2, min2 = min * m2;
            for (int l = 0; l < 32; l++) y[o + l] = d1 * ((ql[l] & 0x0F) + ((qh[l] & u1) != 0 ? 16 : 0)) - min1;
            for (int l = 0; l < 32; l++) y[o + 32 + l] = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - min2;
            ql = ql.Slice(32);
            o += 64;
            s += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    // block_q6_K { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d; }: 6-bit values (4 low bits in ql, 2 high in qh) - 32,
    // sixteen 16-value sub-blocks with signed 8-bit scales.
    private static void Q6_K(ReadOnlySpan<byte> b, Span<float> y)
    {
        var ql = b.Slice(0, 128);
        var qh = b.Slice(128, 64);
        var sc = b.Slice(192, 16);
        float d = Half(b, 208);
        int o = 0;
        for (int n = 0; n < 256; n += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                int s = l / 16;
                int q1 = ((ql[l] & 0x0F) | ((qh[l] >> 0 & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0x0F) | ((qh[l] >> 2 & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)) - 32;
                y[o + l] = d * (sbyte)sc[s] * q1;
                y[o + l + 32] = d * (sbyte)sc[s + 2] * q2;
                y[o + l + 64] = d * (sbyte)sc[s + 4] * q3;
                y[o + l + 96] = d * (sbyte)sc[s + 6] * q4;
            }
            ql = ql.Slice(64);
            qh = qh.Slice(32);
            sc = sc.Slice(8);
            o += 128;
        }
    }
}
