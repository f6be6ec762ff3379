using System.Collections.Generic;

namespace LrpGen.Cli;

/// <summary>The device to run on (<c>--device</c>).</summary>
public enum DeviceChoice
{
    Cpu,
    Cuda,
}

/// <summary>The dtype the model's weights run in (<c>--dtype</c>); relevance is accumulated in float32 either way.</summary>
public enum DTypeChoice
{
    Float32,
    BFloat16,
    Float16,
}

/// <summary>What to do with a prompt longer than the model's positions (<c>--truncate</c>): refuse it (none), drop
/// tokens from its start (left: keep the last ones, next to the explained position) or from its end (right).</summary>
public enum TruncateChoice
{
    None,
    Left,
    Right,
}

/// <summary>The validated arguments of <c>lrpgen explain</c>: exactly one of <see cref="Ids"/> and <see cref="Text"/>.</summary>
public sealed record ExplainOptions
{
    public required string ModelDir { get; init; }
    public IReadOnlyList<long>? Ids { get; init; }
    public string? Text { get; init; }
    public long? Target { get; init; }
    public LrpMethod Method { get; init; } = LrpMethod.AttnLrp;
    public string? JsonPath { get; init; }
    public string? HtmlPath { get; init; }
    public DeviceChoice Device { get; init; } = DeviceChoice.Cpu;
    public DTypeChoice DType { get; init; } = DTypeChoice.Float32;
    public TruncateChoice Truncate { get; init; } = TruncateChoice.None;

    /// <summary>The memory bound in bytes (<c>--max-memory</c>); null: the memory available.</summary>
    public long? MaxMemory { get; init; }
}
