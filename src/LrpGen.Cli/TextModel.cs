using System;
using LrpGen.Models.Bert;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using static TorchSharp.torch;

namespace LrpGen.Cli;

/// <summary>A text model `lrpgen explain` can explain, by config.json's model_type: causal LMs (llama, qwen3_moe,
/// gpt2) explain a next-token logit, BERT classifiers (bert) a class logit.</summary>
public sealed class TextModel : IDisposable
{
    private readonly CausalLm? _lm;
    private readonly BertClassifier? _bert;

    private TextModel(CausalLm? lm, BertClassifier? bert)
    {
        _lm = lm;
        _bert = bert;
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

    public void Dispose()
    {
        _lm?.Dispose();
        _bert?.Dispose();
    }
}
