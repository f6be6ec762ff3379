using System;
using static TorchSharp.torch;

namespace LrpGen;

/// <summary>Implemented by the generated code of every [LrpModule] whose forward takes one tensor, so that a
/// TorchSharp Sequential can hold it: its children are only known at run time.</summary>
public interface ILrpSequentialItem
{
    /// <summary>Forward with a tape of its own; the caller owns both the result and the tape.</summary>
    Tensor LrpForwardItem(LrpContext ctx, Tensor input, out IDisposable tape);

    /// <summary>The modified gradient of the input (null when no relevance reaches it).</summary>
    Tensor? LrpBackwardItem(LrpContext ctx, IDisposable tape, Tensor gOutput);
}
