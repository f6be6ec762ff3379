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
}
