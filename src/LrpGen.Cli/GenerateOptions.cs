using System.Collections.Generic;

namespace LrpGen.Cli;

/// <summary>The validated arguments of <c>lrpgen generate</c>: exactly one of <see cref="Ids"/> and <see cref="Text"/>.</summary>
public sealed record GenerateOptions
{
    public required string ModelDir { get; init; }
    public IReadOnlyList<long>? Ids { get; init; }
    public string? Text { get; init; }
    public int MaxNewTokens { get; init; } = GenerateCommandLine.DefaultMaxNewTokens;
    public LrpMethod Method { get; init; } = LrpMethod.AttnLrp;

    /// <summary>0: greedy; above 0: sampling.</summary>
    public double Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public int? Seed { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = System.Array.Empty<string>();
    public string? JsonPath { get; init; }
    public string? HtmlPath { get; init; }
    public DeviceChoice Device { get; init; } = DeviceChoice.Cpu;
    public DTypeChoice DType { get; init; } = DTypeChoice.Float32;
}
