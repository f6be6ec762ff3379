using System;
using SkiaSharp;

namespace LrpGen.Cli;

/// <summary>Decodes an image file completely or not at all: a truncated or corrupt file is an error, never the part
/// that decoded (SKBitmap.Decode returns that part, the rest left blank).</summary>
internal static class ImageInput
{
    public static SKBitmap Decode(string path)
    {
        using var codec = SKCodec.Create(path, out var created)
            ?? throw new UsageException($"image '{path}' is not an image SkiaSharp can read (PNG, JPEG, WebP, GIF, BMP): {Describe(created)}.");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        throw new CliRuntimeException($"image '{path}' ({codec.EncodedFormat}, {info.Width}x{info.Height}) is {Describe(result)}; "
            + "nothing was explained.");
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "truncated (the file ends before the last row)",
        SKCodecResult.ErrorInInput => "corrupt (its data has errors)",
        SKCodecResult.InvalidInput => "not valid image data",
        SKCodecResult.Unimplemented => "in a variant the decoder does not implement",
        _ => $"not decodable ({result})",
    };
}
