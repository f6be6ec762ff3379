using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using LrpGen.Models.Decoders;
using LrpGen.Models.HuggingFace;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Benchmarks;

/// <summary>--save-model DIR: the benchmark's model (its shape and random weights) as a Hugging Face LLaMA folder
/// (config.json with max_position_embeddings 8192, model.safetensors), so that <c>lrpgen explain DIR</c> runs the
/// long-input case on it. The folder has no tokenizer (the weights are random, so text means nothing): it holds
/// <see cref="PromptFile"/>, random token ids to give with <c>--ids "$(cat DIR/prompt_ids.txt)"</c>. The folder is
/// loaded back and its logits compared with the benchmark's before this returns.</summary>
public static class SaveModel
{
    public const int MaxPositions = 8192;
    public const string PromptFile = "prompt_ids.txt";

    public static int Run(string folder, int layers, int promptTokens)
    {
        if (promptTokens < 1 || promptTokens > MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(promptTokens), promptTokens, $"--prompt-tokens must be in [1, {MaxPositions}].");
        Directory.CreateDirectory(folder);
        var shape = new ModelShape { Tokens = 16, Layers = layers };
        using var work = new Workload(shape);
        var config = work.Config with { MaxPositions = MaxPositions };
        File.WriteAllText(Path.Combine(folder, CheckpointFolder.ConfigFileName), ConfigJson(config).ToJsonString(new() { WriteIndented = true }));

        // The module's parameter names mapped to the checkpoint's through the loader's own table (CheckpointNames).
        var tensors = work.Model.named_parameters().ToDictionary(
            p => CheckpointNames.Llama.Sources(p.name, config)[0].Tensor, p => p.parameter as Tensor);
        SafetensorsFile.Write(Path.Combine(folder, CheckpointFolder.SingleFileName), tensors);

        using (var gen = new Generator(4321))
        using (var ids = torch.randint(0, shape.Vocab, new long[] { promptTokens }, generator: gen, dtype: ScalarType.Int64))
            File.WriteAllText(Path.Combine(folder, PromptFile), string.Join(",", ids.data<long>().ToArray().Select(i => i.ToString(CultureInfo.InvariantCulture))));

        using var loaded = CausalLm.Load(folder);
        using var noGrad = torch.no_grad();
        using var expected = work.Forward();
        using var got = loaded.Logits(work.Embeds);
        double logits = Verification.Relative(got, expected);
        double embeddings = Verification.Relative(loaded.Embeddings.weight!, work.Model.embed_tokens.weight!);
        if (!(logits <= 1e-6) || embeddings != 0)
            throw new InvalidOperationException($"{folder} does not load back as the benchmark's model (logits differ by {logits:0.0e+00}, embeddings by {embeddings:0.0e+00}).");
        Console.WriteLine($"wrote {folder}: {shape.ToString().Split(", 1 x")[0]}, max_position_embeddings {MaxPositions}, "
                          + $"{tensors.Count} tensors; loads back with the same logits (max rel. difference {logits:0.0e+00}).");
        Console.WriteLine($"explain it: lrpgen explain {folder} --ids \"$(cat {Path.Combine(folder, PromptFile)})\"  ({promptTokens} random token ids; the folder has no tokenizer)");
        return 0;
    }

    /// <summary>config.json as Hugging Face's LlamaConfig writes the fields the loader reads.</summary>
    private static JsonObject ConfigJson(DecoderConfig c) => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = c.VocabSize,
        ["hidden_size"] = c.HiddenSize,
        ["intermediate_size"] = c.IntermediateSize,
        ["num_hidden_layers"] = c.Layers,
        ["num_attention_heads"] = c.Heads,
        ["num_key_value_heads"] = c.KvHeads,
        ["head_dim"] = c.HeadDim,
        ["rms_norm_eps"] = c.RmsNormEps,
        ["rope_theta"] = c.RopeTheta,
        ["max_position_embeddings"] = c.MaxPositions,
        ["hidden_act"] = "silu",
        ["attention_bias"] = false,
        ["tie_word_embeddings"] = false,
        ["torch_dtype"] = "float32",
    };
}
