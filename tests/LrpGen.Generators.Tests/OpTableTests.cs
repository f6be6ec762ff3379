using System;
using LrpGen.Generators.Ir;
using Xunit;

namespace LrpGen.Generators.Tests;

/// <summary>The op table is the one place that knows each op kind: every kind has its entry.</summary>
public class OpTableTests
{
    [Fact]
    public void EveryOpKindHasOneEntry()
    {
        foreach (OpKind kind in Enum.GetValues(typeof(OpKind)))
            Assert.Equal(kind, OpTable.Of(kind).Kind);
    }
}
