using System;

namespace LrpGen;

/// <summary>The run-time state a generated pass threads through its modules: the chosen method.</summary>
/// <remarks>Generated code asks it which rule applies; the answer never changes within one pass.</remarks>
public sealed class LrpContext
{
    public LrpContext(LrpOptions? options)
    {
        Method = (options ?? new LrpOptions()).Method;
    }

    public LrpMethod Method { get; }

    /// <summary>True when LRP rules apply (AttnLRP or CP-LRP); false for the plain-gradient baseline.</summary>
    public bool RulesActive => Method != LrpMethod.Gradient;

    /// <summary>True when gates and attention weights are constants here: CP-LRP chosen at run time,
    /// or forced by <see cref="CpLrpAttribute"/> on the enclosing class or method.</summary>
    public bool GatesAreConstant(bool cpForced) =>
        Method == LrpMethod.CpLrp || (cpForced && Method == LrpMethod.AttnLrp);
}
