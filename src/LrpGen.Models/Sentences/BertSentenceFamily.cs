using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen;
using LrpGen.Models.Bert;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Sentences;

/// <summary>BERT (post-LN) under a <see cref="SentenceHead"/>: positions 0..T-1, token type 0.</summary>
public sealed class BertSentenceFamily : ISentenceEncoder
{
    /// <summary>The registration of model_type "bert" in <see cref="SentenceEncoderFamilies"/>.</summary>
    public static SentenceEncoderFamily Family { get; } = new("bert", FromCheckpoint);

    private BertSentenceFamily(BertSentenceEncoder model, BertConfig config)
    {
        Model = model;
        Config = config;
    }

    public BertSentenceEncoder Model { get; }
    public BertConfig Config { get; }
    public nn.Module Module => Model;
    public int MaxTokens => Config.MaxPositions;
    public int HiddenSize => Config.HiddenSize;

    /// <summary>A Hugging Face BERT folder (a bare BertModel, or with the "bert." prefix): config.json's sizes, every
    /// encoder tensor checked and loaded; pooler and task heads in the checkpoint are ignored.</summary>
    public static ISentenceEncoder FromCheckpoint(CheckpointFolder checkpoint, SentenceHeadConfig head)
    {
        var config = BertConfig.From(checkpoint);
        ShapeCheck.BeforeAllocating(checkpoint, ScalarType.Float32, meta => new BertSentenceEncoder(config, head, meta),
            (shapes, assigner) => LoadEncoder((BertSentenceEncoder)shapes, assigner));
        var model = new BertSentenceEncoder(config, head);
        try
        {
            LoadEncoder(model, new WeightAssigner(checkpoint, ScalarType.Float32));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return new BertSentenceFamily(model, config);
    }

    private static void LoadEncoder(BertSentenceEncoder model, WeightAssigner assigner)
    {
        string prefix = assigner.Checkpoint.Contains("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        foreach (var (name, parameter) in model.bert.named_parameters())
            assigner.Assign(BertLoading.HuggingFaceName("bert." + name, prefix), parameter);
        assigner.EnsureAllUsed("position_ids", prefix + "embeddings.position_ids", prefix + "pooler", "cls", "classifier");
    }

    /// <summary>A PyTorch ONNX export of a BERT encoder (as the SentenceTransformers.* packages ship): sizes from the
    /// graph (<paramref name="heads"/> where the graph does not show them), weights through <see cref="MiniLmWeights"/>.</summary>
    public static ISentenceEncoder FromOnnx(OnnxModel onnx, SentenceHeadConfig head, int? heads)
    {
        var graphConfig = MiniLmConfig.FromGraph(onnx.Graph, heads);
        var config = new BertConfig(graphConfig.VocabSize, graphConfig.HiddenSize, graphConfig.Layers, graphConfig.Heads,
            graphConfig.IntermediateSize, graphConfig.MaxPositions, graphConfig.TypeVocabSize, graphConfig.LayerNormEps, Labels: 0);
        var weights = MiniLmWeights.Read(onnx.Graph, graphConfig);
        var model = new BertSentenceEncoder(config, head);
        try
        {
            using (torch.no_grad())
                foreach (var (name, parameter) in model.bert.named_parameters())
                {
                    string source = BertLoading.HuggingFaceName("bert." + name, "");
                    if (!weights.TryGetValue(source, out var tensor))
                        throw new InvalidOperationException($"The ONNX weights lack '{source}' (for {name}).");
                    parameter.copy_(tensor);
                }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        model.eval();
        return new BertSentenceFamily(model, config);
    }

    public Tensor WordEmbeddings(Tensor ids)
    {
        using var noGrad = torch.no_grad();
        return Model.bert.word_embeddings.forward(ids);
    }

    public LrpPass LrpForward(Tensor wordEmbeds, EncoderBatch batch, LrpOptions options)
    {
        var (positions, types) = Inputs(batch);
        using (positions)
        using (types)
        using (torch.no_grad())
            return Model.LrpForward(wordEmbeds, positions, types, batch.AdditiveMask, batch.TokenWeights, batch.MaxMask, options);
    }

    public Tensor Forward(Tensor wordEmbeds, EncoderBatch batch)
    {
        var (positions, types) = Inputs(batch);
        using (positions)
        using (types)
            return Model.forward(wordEmbeds, positions, types, batch.AdditiveMask, batch.TokenWeights, batch.MaxMask);
    }

    public Tensor ForwardUnnormalized(Tensor wordEmbeds, EncoderBatch batch)
    {
        var (positions, types) = Inputs(batch);
        using (positions)
        using (types)
        using (var hidden = Model.bert.forward(wordEmbeds, positions, types, batch.AdditiveMask))
            return Model.head.Unnormalized(hidden, batch.TokenWeights, batch.MaxMask);
    }

    public IReadOnlyList<Tensor> AttentionProbabilities(Tensor wordEmbeds, EncoderBatch batch)
    {
        var (positions, types) = Inputs(batch);
        using (positions)
        using (types)
            return Model.bert.AttentionProbabilities(wordEmbeds, positions, types, batch.AdditiveMask);
    }

    /// <summary>Positions 0..T-1 in every row (right padding) and token type 0.</summary>
    private static (Tensor Positions, Tensor Types) Inputs(EncoderBatch batch)
    {
        var device = batch.AttentionMask.device;
        long n = batch.Batch, length = batch.Length;
        return (torch.arange(length, device: device).unsqueeze(0).expand(n, length).contiguous(), torch.zeros(n, length, ScalarType.Int64, device));
    }

    public void Dispose() => Model.Dispose();
}
