using static TorchSharp.torch;

namespace LrpGen;

/// <summary>A named place in a model where relevance can be read, seeded or the forward value changed: the output
/// of a submodule call ("layers.3", "layers.3.mlp") or the input of a Linear ("layers.3.mlp.down_proj").
/// Paths follow the module's field names, with the index of module-list elements.</summary>
public sealed class LrpPoint : System.IDisposable
{
    internal LrpPoint(string path) => Path = path;

    public string Path { get; }

    /// <summary>The forward value here, kept only when a latent relevance was asked for at this point.</summary>
    internal Tensor? Value { get; set; }

    public void Dispose()
    {
        Value?.Dispose();
        Value = null;
    }
}
