namespace LrpGen;

/// <summary>Which propagation the generated backward applies; chosen at run time.</summary>
public enum LrpMethod
{
    /// <summary>AttnLRP (Achtibat et al., ICML 2024): the default.</summary>
    AttnLrp = 0,
    /// <summary>CP-LRP: attention weights and gates are constants.</summary>
    CpLrp = 1,
    /// <summary>Plain input x gradient, the usual baseline.</summary>
    Gradient = 2,
}
