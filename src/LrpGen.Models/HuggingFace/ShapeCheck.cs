using System;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Models.HuggingFace;

/// <summary>Checks a checkpoint against a model before the model exists: the model is built on the meta device
/// (shapes without storage) and the loader runs over it in shapes-only mode, reading headers only. A wrong size in
/// config.json or a checkpoint of another model thus fails before gigabytes of weights are allocated.</summary>
public static class ShapeCheck
{
    /// <summary>LibTorch's meta device: tensors there have a shape and a dtype but no data.</summary>
    public static Device Meta { get; } = torch.device(DeviceType.META);

    /// <summary>Builds the model with <paramref name="build"/> on <see cref="Meta"/> and runs <paramref name="load"/>
    /// over it with a shapes-only <see cref="WeightAssigner"/>: missing, misshapen or unused tensors throw here.</summary>
    public static void BeforeAllocating(CheckpointFolder checkpoint, ScalarType dtype, Func<Device, nn.Module> build,
        Action<nn.Module, WeightAssigner> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        BeforeAllocating(build, shapes => load(shapes, new WeightAssigner(checkpoint, dtype, shapesOnly: true)));
    }

    /// <summary>Builds the model on <see cref="Meta"/>, runs <paramref name="checkShapes"/> over it, disposes it.</summary>
    public static void BeforeAllocating<TModule>(Func<Device, TModule> build, Action<TModule> checkShapes) where TModule : nn.Module
    {
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(checkShapes);
        using var shapes = build(Meta);
        checkShapes(shapes);
    }
}
