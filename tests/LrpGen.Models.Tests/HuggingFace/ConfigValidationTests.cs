using System.IO;
using LrpGen.Models.HuggingFace;
using Xunit;

namespace LrpGen.Models.Tests.HuggingFace;

/// <summary>Every size in config.json is checked before a model is built: each bad value is a one-line
/// <see cref="CheckpointException"/> naming the file, the key and the value (no C++ frames, no
/// DivideByZeroException, no API advice). Rows: family, edits ("key=json;key=json", "-" removes), expected text.</summary>
public class ConfigValidationTests
{
    private const string Llama3Rope = """{"rope_type":"llama3","rope_theta":10000,"factor":8,"low_freq_factor":1,"high_freq_factor":1,"original_max_position_embeddings":8192}""";

    [Theory]
    // sizes: positive, whole, within bounds
    [InlineData("llama", "hidden_size=0", "'hidden_size' is 0; it must be from 1 to 65536.")]
    [InlineData("llama", "hidden_size=-64", "'hidden_size' is -64; it must be from 1 to 65536.")]
    [InlineData("llama", "hidden_size=1e12", "'hidden_size' is 1e12; it must be from 1 to 65536.")]
    [InlineData("llama", "num_hidden_layers=0", "'num_hidden_layers' is 0; it must be from 1 to 1024.")]
    [InlineData("llama", "num_hidden_layers=5000", "'num_hidden_layers' is 5000; it must be from 1 to 1024.")]
    [InlineData("llama", "vocab_size=20000000", "'vocab_size' is 20000000; it must be from 1 to 10000000.")]
    [InlineData("llama", "intermediate_size=2000000", "'intermediate_size' is 2000000; it must be from 1 to 1048576.")]
    [InlineData("llama", "intermediate_size=-1", "'intermediate_size' is -1; it must be from 1 to 1048576.")]
    [InlineData("llama", "intermediate_size=1.5", "'intermediate_size' in config.json")]
    [InlineData("llama", "intermediate_size=\"160\"", "is \"160\", not a whole number.")]
    [InlineData("llama", "intermediate_size=-", "has no 'intermediate_size'.")]
    // heads: positive, divisible, head_dim even for RoPE
    [InlineData("llama", "num_attention_heads=0", "'num_attention_heads' is 0; it must be from 1 to 65536.")]
    [InlineData("llama", "num_key_value_heads=0", "'num_key_value_heads' is 0; it must be from 1 to 65536.")]
    [InlineData("llama", "num_key_value_heads=3", "'num_attention_heads' is 4; it must be a multiple of 'num_key_value_heads' (3).")]
    [InlineData("llama", "num_key_value_heads=8", "'num_key_value_heads' is 8; it must be at most 'num_attention_heads' (4).")]
    [InlineData("llama", "head_dim=0", "'head_dim' is 0; it must be from 1 to 65536.")]
    [InlineData("llama", "head_dim=15", "'head_dim' is 15; it must be even: RoPE rotates pairs of dimensions.")]
    [InlineData("llama", "head_dim=-;num_attention_heads=3;num_key_value_heads=1", "'hidden_size' is 64; it must be a multiple of 'num_attention_heads' (3).")]
    [InlineData("llama", "head_dim=-;hidden_size=72;num_attention_heads=8;num_key_value_heads=1", "'hidden_size / num_attention_heads' is 9; it must be even")]
    // numbers: positive and finite
    [InlineData("llama", "rms_norm_eps=-1", "'rms_norm_eps' is -1; it must be a positive number.")]
    [InlineData("llama", "rope_parameters.rope_theta=0", "'rope_parameters.rope_theta' is 0; it must be a positive number.")]
    [InlineData("llama", "rope_parameters=" + Llama3Rope, "'rope_parameters.high_freq_factor' is 1; it must be larger than low_freq_factor (1).")]
    // Qwen3-MoE: experts
    [InlineData("qwen3moe", "num_local_experts=0", "'num_local_experts' is 0; it must be from 1 to 65536.")]
    [InlineData("qwen3moe", "num_experts_per_tok=5", "'num_experts_per_tok' is 5; it must be at most 'num_local_experts' (4).")]
    [InlineData("qwen3moe", "moe_intermediate_size=0", "'moe_intermediate_size' is 0; it must be from 1 to 1048576.")]
    [InlineData("qwen3moe", "num_key_value_heads=0", "'num_key_value_heads' is 0; it must be from 1 to 65536.")]
    // GPT-2
    [InlineData("gpt2", "n_head=0", "'n_head' is 0; it must be from 1 to 65536.")]
    [InlineData("gpt2", "n_head=5", "'n_embd' is 48; it must be a multiple of 'n_head' (5).")]
    [InlineData("gpt2", "n_embd=-48", "'n_embd' is -48; it must be from 1 to 65536.")]
    [InlineData("gpt2", "n_positions=0", "'n_positions' is 0; it must be from 1 to 10000000.")]
    [InlineData("gpt2", "n_inner=0", "'n_inner' is 0; it must be from 1 to 1048576.")]
    [InlineData("gpt2", "layer_norm_epsilon=0", "'layer_norm_epsilon' is 0; it must be a positive number.")]
    // BERT
    [InlineData("bert", "num_attention_heads=0", "'num_attention_heads' is 0; it must be from 1 to 65536.")]
    [InlineData("bert", "num_attention_heads=5", "'hidden_size' is 48; it must be a multiple of 'num_attention_heads' (5).")]
    [InlineData("bert", "intermediate_size=-96", "'intermediate_size' is -96; it must be from 1 to 1048576.")]
    [InlineData("bert", "max_position_embeddings=0", "'max_position_embeddings' is 0; it must be from 1 to 10000000.")]
    [InlineData("bert", "type_vocab_size=0", "'type_vocab_size' is 0; it must be from 1 to 10000000.")]
    [InlineData("bert", "id2label={}", "'id2label' is {}; it must map at least one class index to a label.")]
    // ViT
    [InlineData("vit", "patch_size=0", "'patch_size' is 0; it must be from 1 to 65536.")]
    [InlineData("vit", "patch_size=5", "'image_size' is 32; it must be a multiple of 'patch_size' (5).")]
    [InlineData("vit", "image_size=65536;patch_size=1", "'patch_size' is 1; a 65536-pixel image side would give 4294967296 patches, more than 10000000.")]
    [InlineData("vit", "num_heads=0", "'num_heads' is 0; it must be from 1 to 65536.")]
    [InlineData("vit", "num_heads=5", "'hidden_dim' is 48; it must be a multiple of 'num_heads' (5).")]
    [InlineData("vit", "mlp_dim=-1", "'mlp_dim' is -1; it must be from 1 to 1048576.")]
    [InlineData("vit", "num_classes=0", "'num_classes' is 0; it must be from 1 to 10000000.")]
    [InlineData("vit", "gamma_conv=-1", "'gamma_conv' is -1; it must be a number >= 0.")]
    public void BadConfigValuesAreOneLineErrorsNamingFileKeyAndValue(string family, string edits, string expected)
    {
        using var folder = new TempFolder();
        EditedCheckpoint.Write(family, folder.Path, EditedCheckpoint.Parse(edits));
        var error = Assert.Throws<CheckpointException>(() => EditedCheckpoint.Load(family, folder.Path));
        string configPath = Path.Combine(folder.Path, "config.json");
        Assert.Contains(configPath, error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Equal(configPath, error.FilePath);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain("frame #", error.Message);
        Assert.Null(error.InnerException);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3moe")]
    [InlineData("gpt2")]
    [InlineData("bert")]
    [InlineData("vit")]
    public void TheGoldenConfigsPassTheChecks(string family)
    {
        // The rules reject nothing a real (if tiny) model has: "1e6"-style numbers and all.
        using var folder = new TempFolder();
        EditedCheckpoint.Write(family, folder.Path, new System.Collections.Generic.Dictionary<string, string?>());
        EditedCheckpoint.Load(family, folder.Path);
    }
}
