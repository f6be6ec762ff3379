using System;
using System.Collections.Generic;
using System.Linq;
using LLama;
using LLama.Common;
using LLama.Native;
using LrpGen.Models.Gguf;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>llama.cpp (through LLamaSharp) as the independent reference: logits at every position with an f32 KV
/// cache (its default f16 cache alone costs ~1e-3 relative), and its own quantizer.</summary>
internal static class LlamaCpp
{
    /// <summary>[positions, vocab] logits of one sequence, decoded in one batch with logits requested everywhere.</summary>
    public static float[][] Logits(string ggufPath, IReadOnlyList<long> ids)
    {
        GgufTokenizer.SilenceNativeLog();
        var parameters = new ModelParams(ggufPath)
        {
            ContextSize = (uint)Math.Max(64, ids.Count),
            BatchSize = (uint)Math.Max(64, ids.Count),
            UBatchSize = (uint)Math.Max(64, ids.Count),
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            GpuLayerCount = 0,
            Threads = 2,
            FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var batch = new LLamaBatch();
        for (int i = 0; i < ids.Count; i++) batch.Add((int)ids[i], i, LLamaSeqId.Zero, true);
        var result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        return Enumerable.Range(0, ids.Count).Select(i => context.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    }

    /// <summary>Quantizes with llama.cpp's own quantizer (llama_model_quantize), output tensor included.</summary>
    public static void Quantize(string source, string destination, LLamaFtype type)
    {
        GgufTokenizer.SilenceNativeLog();
        if (!LLamaQuantizer.Quantize(source, destination, type, 2, allowRequantize: false, quantizeOutputTensor: true))
            throw new InvalidOperationException($"llama.cpp could not quantize {source} to {type}.");
    }
}
