using System.Linq;

namespace LrpGen.Models.Onnx;

/// <summary>The value of a graph value that is a constant: an initializer, or the output of a <c>Constant</c>
/// node (its <c>value</c> tensor or <c>value_float(s)</c> / <c>value_int(s)</c> attribute).</summary>
public static class OnnxConstants
{
    /// <summary>The values of a FLOAT constant, or null when <paramref name="value"/> is not one.</summary>
    public static float[]? TryFloat(OnnxGraph graph, string value)
    {
        if (TryTensor(graph, value) is { } tensor)
            return tensor.DataType == OnnxDataType.Float && !tensor.IsExternal ? tensor.ToFloatArray() : null;
        if (graph.ProducerOf(value) is { OpType: "Constant" } node)
        {
            if (node.Attribute("value_float") is { } f) return new[] { f.F };
            if (node.Attribute("value_floats") is { } fs) return fs.Floats.ToArray();
        }
        return null;
    }

    /// <summary>The values of an INT64 constant, or null when <paramref name="value"/> is not one.</summary>
    public static long[]? TryInt64(OnnxGraph graph, string value)
    {
        if (TryTensor(graph, value) is { } tensor)
            return tensor.DataType == OnnxDataType.Int64 && !tensor.IsExternal ? tensor.ToInt64Array() : null;
        if (graph.ProducerOf(value) is { OpType: "Constant" } node)
        {
            if (node.Attribute("value_int") is { } i) return new[] { i.I };
            if (node.Attribute("value_ints") is { } ints) return ints.Ints.ToArray();
        }
        return null;
    }

    private static OnnxTensor? TryTensor(OnnxGraph graph, string value)
    {
        if (graph.TryGetInitializer(value, out var initializer)) return initializer;
        return graph.ProducerOf(value) is { OpType: "Constant" } node ? node.Attribute("value")?.T : null;
    }
}
