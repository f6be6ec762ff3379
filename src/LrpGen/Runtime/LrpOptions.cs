using System;

namespace LrpGen;

/// <summary>Run-time options of one relevance pass.</summary>
public sealed class LrpOptions
{
    private LrpMethod _method = LrpMethod.AttnLrp;

    /// <summary>The propagation method; <see cref="LrpMethod.AttnLrp"/> by default.</summary>
    public LrpMethod Method
    {
        get => _method;
        set
        {
            if (!Enum.IsDefined(typeof(LrpMethod), value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "LrpOptions.Method must be AttnLrp, CpLrp or Gradient.");
            _method = value;
        }
    }
}
