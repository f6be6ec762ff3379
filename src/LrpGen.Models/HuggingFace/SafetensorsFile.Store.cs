using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

public sealed partial class SafetensorsFile : ITensorStore
{
    Tensor ITensorStore.Load(string name, ScalarType? dtype)
    {
        var raw = Load(name);
        if (dtype is not ScalarType wanted || raw.dtype == wanted) return raw;
        using (raw) return raw.to_type(wanted);
    }
}
