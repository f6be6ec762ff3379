using LrpGen.Models.HuggingFace;

namespace LrpGen.Models.Vit;

/// <summary>The ViT configuration (our small config.json beside torchvision's state dict), with LXT's gamma values.</summary>
public sealed record VitConfig(int ImageSize, int PatchSize, int Layers, int Heads, int HiddenDim, int MlpDim, int Classes,
    double GammaConv, double GammaLinear)
{
    /// <summary>Reads and checks the configuration: every size within <see cref="ConfigLimits"/>, the image a whole
    /// number of patches (at most <see cref="ConfigLimits.Positions"/>), hidden_dim a multiple of the heads.</summary>
    public static VitConfig From(System.Text.Json.JsonElement json, string path)
    {
        var c = new ConfigReader(json, path);
        int image = c.Size("image_size", ConfigLimits.ImageSize);
        int patch = c.Size("patch_size", ConfigLimits.ImageSize);
        c.RequireMultiple("image_size", image, "patch_size", patch);
        long patches = (long)(image / patch) * (image / patch);
        if (patches > ConfigLimits.Positions)
            throw c.Invalid("patch_size", patch.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"a {image}-pixel image side would give {patches} patches, more than {ConfigLimits.Positions}");
        int hidden = c.Size("hidden_dim", ConfigLimits.HiddenSize);
        int heads = c.Size("num_heads", ConfigLimits.Heads);
        c.RequireMultiple("hidden_dim", hidden, "num_heads", heads);
        return new VitConfig(image, patch, c.Size("num_layers", ConfigLimits.Layers), heads, hidden,
            c.Size("mlp_dim", ConfigLimits.IntermediateSize), c.Size("num_classes", ConfigLimits.VocabSize),
            Gamma(c, "gamma_conv", 0.25), Gamma(c, "gamma_linear", 0.05));
    }

    private static double Gamma(ConfigReader c, string key, double fallback)
    {
        double gamma = c.GetOptionalDouble(key) ?? fallback;
        if (!(gamma >= 0) || double.IsInfinity(gamma))
            throw c.Invalid(key, gamma.ToString("R", System.Globalization.CultureInfo.InvariantCulture), "it must be a number >= 0");
        return gamma;
    }
}
