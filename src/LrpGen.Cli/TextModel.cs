using System;
using LrpGen.Models.Bert;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary>A text model `lrpgen explain` can explain, by config.json's model_type: causal LMs (the families of
/// DecoderFamilies) explain a next-token logit, BERT classifiers (bert) a class logit.</summary>
public sealed class TextModel : IDisposable
{
    private readonly CausalLm? _lm;
    private readonly BertClassifier? _bert;

    private TextModel(CausalLm? lm, BertClassifier? bert)
    {
        _lm = lm;
        _bert = bert;
    }

    /// <summary>What config.json and the weights' headers say, before any weight is read: the checks of the prompt
    /// and of the memory need no loaded model.</summary>
    public static TextModelInfo Describe(string folder, ScalarType dtype)
    {
        var checkpoint = CheckpointFolder.Open(folder);
        long parameters = 0;
        foreach (var name in checkpoint.TensorNames)
        {
            long count = 1;
            foreach (var d in checkpoint.Shape(name)) count *= d;
            parameters += count;
        }
        bool half = dtype != ScalarType.Float32;
        long weightBytes = parameters * (half ? 2 : 4);
        if (checkpoint.ModelType == "bert")
        {
            var c = BertConfig.From(checkpoint);
            return new TextModelInfo("bert", c.VocabSize, c.Labels, c.MaxPositions, "max_position_embeddings",
                new PassShape(c.Layers, c.Heads, c.HiddenSize, c.IntermediateSize, weightBytes, half));
        }
        var family = DecoderFamilies.Of(checkpoint);
        var d2 = family.ReadConfig(checkpoint.Values);
        int perToken = Math.Max(d2.IntermediateSize, d2.ExpertsPerToken * d2.MoeIntermediateSize);
        return new TextModelInfo(d2.ModelType, d2.VocabSize, d2.VocabSize, d2.MaxPositions, family.PositionsKey,
            new PassShape(d2.Layers, d2.Heads, d2.HiddenSize, perToken, weightBytes, half, DenseMasks: d2.HasSlidingLayers ? 2 : 1));
    }

    public static TextModel Load(string folder, ScalarType dtype, Device device, IProgress<string> progress)
    {
        string type = CheckpointFolder.Open(folder).ModelType;
        return type == "bert"
            ? new TextModel(null, BertClassifier.Load(folder, dtype, device, progress))
            : new TextModel(CausalLm.Load(folder, dtype, device, progress), null);
    }

    public string ModelType => _lm?.Config.ModelType ?? "bert";
    public int Layers => _lm?.Config.Layers ?? _bert!.Config.Layers;
    public long VocabSize => _lm?.Config.VocabSize ?? _bert!.Config.VocabSize;

    /// <summary>What a target indexes: the vocabulary (next token) or the classes.</summary>
    public long OutputSize => _lm?.Config.VocabSize ?? _bert!.Config.Labels;

    public string TargetKind => _lm is not null ? "next-token logit" : "class logit";

    public CausalLmExplanation Explain(long[] ids, ExplainRequest request)
    {
        if (_lm is not null) return _lm.Explain(new[] { ids }, request);
        using var tensor = TorchSharp.torch.tensor(ids).unsqueeze(0);
        return _bert!.Explain(tensor, null, request);
    }

    /// <summary>The loaded module (its parameters are the weights).</summary>
    public TorchSharp.torch.nn.Module Module => _lm?.Module ?? _bert!.Model;

    public void Dispose()
    {
        _lm?.Dispose();
        _bert?.Dispose();
    }
}

/// <summary>A text model's facts from its folder: model_type, vocabulary, what a target indexes, the positions it
/// takes (0: config.json does not say) and under which key, and the shape of a relevance pass.</summary>
public sealed record TextModelInfo(string ModelType, long VocabSize, long OutputSize, int MaxPositions, string PositionsKey, PassShape Pass);
