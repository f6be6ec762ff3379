using System;
using System.Collections.Generic;
using System.Linq;
using LrpGen.Models.Decoders;
using LrpGen.Models.Gguf;
using LrpGen.Models.HuggingFace;
using LrpGen.Models.Tests.HuggingFace;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LrpGen.Models.Tests.Gguf;

/// <summary>A Mixtral, Phi-3 or Llama 3.1 GGUF with a tensor missing or of the wrong shape: one line that names the
/// GGUF tensor.</summary>
public class MoePhiRopeGgufErrorTests
{
    /// <summary>The tiny <paramref name="family"/> as GGUF, its tensors edited by <paramref name="edit"/>.</summary>
    private static string EditedGguf(TempFolder temp, string family, Action<List<KeyValuePair<string, Tensor>>> edit)
    {
        string folder = temp.File("hf");
        TinyLlamaVariants.Write(folder, family, seed: 4);
        string gguf = temp.File("model.gguf");
        GgufConversion.FromHuggingFace(folder, gguf);
        var file = GgufFile.Open(gguf);
        var tensors = file.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Load(t.Name, ScalarType.Float32))).ToList();
        edit(tensors);
        string edited = temp.File("edited.gguf");
        GgufWriter.Write(edited, file.Metadata, tensors);
        foreach (var t in tensors) t.Value.Dispose();
        return edited;
    }

    private static void Remove(List<KeyValuePair<string, Tensor>> tensors, string name) =>
        Assert.Equal(1, tensors.RemoveAll(t => t.Key == name));

    /// <summary>Replaces tensor <paramref name="name"/> by its first <paramref name="rows"/> rows (GGUF's outermost dimension).</summary>
    private static void Cut(List<KeyValuePair<string, Tensor>> tensors, string name, long rows)
    {
        int i = tensors.FindIndex(t => t.Key == name);
        Assert.True(i >= 0, name);
        tensors[i] = new(name, tensors[i].Value.narrow(tensors[i].Value.dim() == 3 ? 1 : 0, 0, rows).contiguous());
    }

    private static string ErrorOf(string gguf)
    {
        var e = Assert.Throws<CheckpointException>(() => { using var lm = CausalLm.Load(gguf); });
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void MissingExpertsAreNamed()
    {
        using var temp = new TempFolder();
        string gguf = EditedGguf(temp, "mixtral", t => Remove(t, "blk.1.ffn_gate_exps.weight"));
        Assert.Contains("has no tensor 'blk.1.ffn_gate_exps.weight', which every block of a llama model (mixtral) needs", ErrorOf(gguf));
    }

    [Fact]
    public void IllShapedExpertsAreNamed()
    {
        using var temp = new TempFolder();
        string gguf = EditedGguf(temp, "mixtral", t => Cut(t, "blk.0.ffn_up_exps.weight", 256));
        var message = ErrorOf(gguf);
        Assert.Contains("(GGUF tensor 'blk.0.ffn_up_exps.weight', expert 0)", message);
        Assert.Contains("has shape [256, 256]; the model expects [512, 256]", message);
    }

    [Fact]
    public void MissingFusedQkvIsNamed()
    {
        using var temp = new TempFolder();
        string gguf = EditedGguf(temp, "phi3", t => Remove(t, "blk.0.attn_qkv.weight"));
        Assert.Contains("has no tensor 'blk.0.attn_qkv.weight', which every block of a phi3 model needs", ErrorOf(gguf));
    }

    [Fact]
    public void IllShapedFusedQkvIsNamed()
    {
        using var temp = new TempFolder();
        string gguf = EditedGguf(temp, "phi3", t => Cut(t, "blk.1.attn_qkv.weight", 448));
        var message = ErrorOf(gguf);
        Assert.Contains("(GGUF tensor 'blk.1.attn_qkv.weight')", message);
        Assert.Contains("has shape [448, 256]; the model expects [512, 256]", message);
    }

    [Fact]
    public void OneLongRopeListAloneIsNamed()
    {
        using var temp = new TempFolder();
        string gguf = EditedGguf(temp, "phi3", t => Remove(t, GgufRopeFactors.Short));
        Assert.Contains("has 'rope_factors_long.weight' but no tensor 'rope_factors_short.weight'; longrope needs both", ErrorOf(gguf));
    }

    [Fact]
    public void IllShapedRopeFrequenciesAreNamed()
    {
        using var temp = new TempFolder();
        string gguf = EditedGguf(temp, "llama3", t => Cut(t, GgufRopeFactors.Frequencies, 16));
        Assert.Contains("tensor 'rope_freqs.weight' has shape [16]; the model expects [32] (head dimension / 2)", ErrorOf(gguf));
    }
}
