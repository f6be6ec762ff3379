using System;
using System.IO;

namespace LrpGen.Cli;

/// <summary>A prompt longer than the model's positions is refused before any work, or truncated on request
/// (<c>--truncate left|right</c>) with a notice on stderr.</summary>
internal static class PromptLength
{
    /// <summary>The ids to explain: <paramref name="ids"/> when they fit the model's positions (or the model does not
    /// say how many it has), else the truncation asked for; without one, a <see cref="UsageException"/>.</summary>
    public static long[] Fit(long[] ids, TextModelInfo model, TruncateChoice truncate, TextWriter notices)
    {
        int max = model.MaxPositions;
        if (max <= 0 || ids.Length <= max) return ids;
        int dropped = ids.Length - max;
        switch (truncate)
        {
            case TruncateChoice.Left:
                notices.WriteLine($"note: the prompt has {ids.Length} tokens and the model {max} positions ({model.PositionsKey}): "
                    + $"dropped the first {dropped} (--truncate left).");
                return ids[dropped..];
            case TruncateChoice.Right:
                notices.WriteLine($"note: the prompt has {ids.Length} tokens and the model {max} positions ({model.PositionsKey}): "
                    + $"dropped the last {dropped} (--truncate right).");
                return ids[..max];
            default:
                throw new UsageException($"the prompt has {ids.Length} tokens, more than the model's {max} positions ({model.PositionsKey} "
                    + "in config.json); give a shorter prompt, or --truncate left (keep the last tokens) or --truncate right (keep the first).");
        }
    }
}
