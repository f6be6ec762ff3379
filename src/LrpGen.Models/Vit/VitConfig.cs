using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Vit;

/// <summary>The ViT configuration (our small config.json beside torchvision's state dict), with LXT's gamma values.</summary>
public sealed record VitConfig(int ImageSize, int PatchSize, int Layers, int Heads, int HiddenDim, int MlpDim, int Classes,
    double GammaConv, double GammaLinear)
{
    public static VitConfig From(System.Text.Json.JsonElement json, string path)
    {
        int Int(string key) => json.TryGetProperty(key, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number
            ? v.GetInt32()
            : throw new CheckpointException($"{path}: missing integer '{key}'.", path);
        double Double(string key, double fallback) => json.TryGetProperty(key, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number ? v.GetDouble() : fallback;
        var config = new VitConfig(Int("image_size"), Int("patch_size"), Int("num_layers"), Int("num_heads"), Int("hidden_dim"),
            Int("mlp_dim"), Int("num_classes"), Double("gamma_conv", 0.25), Double("gamma_linear", 0.05));
        if (config.ImageSize % config.PatchSize != 0)
            throw new CheckpointException($"{path}: image_size {config.ImageSize} is not a multiple of patch_size {config.PatchSize}.", path);
        if (config.HiddenDim % config.Heads != 0)
            throw new CheckpointException($"{path}: hidden_dim {config.HiddenDim} is not a multiple of num_heads {config.Heads}.", path);
        return config;
    }
}
