using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LrpGen.Models.MiniLm;
using LrpGen.Models.Onnx;
using LrpGen.Models.Tests.MiniLm;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace LrpGen.Models.Tests.Onnx;

/// <summary>The ONNX reader (Google.Protobuf classes generated from OnnxSubset.proto) on models encoded by hand
/// (<see cref="ProtoWriter"/>, field numbers from the ONNX specification, independent of the schema): the model's
/// structure, every storage of float32, float16, bfloat16 and int64 initializers and external data, each compared
/// with what ONNX Runtime computes from the same bytes; and one-line errors for files that are not ONNX models.</summary>
public sealed class OnnxModelReaderTests : IDisposable
{
    private const int Float16 = 10, BFloat16 = 16, ExternalLocation = 1;
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>ModelProto { ir_version: 7, graph { initializer { dims: 2, data_type: FLOAT, name: "a", raw_data:
    /// 1.5f, -2f } } }, byte by byte.</summary>
    [Fact]
    public void ReadsHandEncodedBytes()
    {
        byte[] bytes =
        {
            0x08, 0x07,                         // ModelProto.ir_version (1, varint) = 7
            0x3A, 0x13,                         // ModelProto.graph (7, length-delimited), 19 bytes
            0x2A, 0x11,                         // GraphProto.initializer (5), 17 bytes
            0x08, 0x02,                         // TensorProto.dims (1, varint) = 2
            0x10, 0x01,                         // TensorProto.data_type (2) = FLOAT
            0x42, 0x01, (byte)'a',              // TensorProto.name (8) = "a"
            0x4A, 0x08,                         // TensorProto.raw_data (9), 8 bytes
            0x00, 0x00, 0xC0, 0x3F,             // 1.5f
            0x00, 0x00, 0x00, 0xC0,             // -2f
        };

        var model = OnnxModelReader.Read(bytes);

        var a = Assert.Single(model.Graph.Initializers);
        Assert.Equal("a", a.Name);
        Assert.Equal(new long[] { 2 }, a.Shape);
        Assert.Equal(OnnxDataType.Float, a.DataType);
        Assert.Equal(new[] { 1.5f, -2f }, a.ToFloatArray());
        Assert.Same(a, model.Graph.Initializer("a"));
        bytes[^1] = 0x40;                                    // the model holds its own copy of the bytes
        Assert.Equal(new[] { 1.5f, -2f }, a.ToFloatArray());
    }

    [Fact]
    public void ReadsModelGraphNodesInitializersAndAttributes()
    {
        byte[] bytes = OnnxProto.Model(g => g
            .String(2, "tiny")
            .Message(11, v => v.String(1, "x").Message(2, t => t.Varint(1, 1)))   // ValueInfoProto with a type
            .Message(12, v => v.String(1, "y"))
            .Message(13, v => v.String(1, "value_info is skipped"))
            .Message(5, OnnxProto.FloatTensor("W", new long[] { 2, 3 }, 1, 2, 3, 4, 5, 6))
            .Message(5, t => t.PackedVarints(1, new long[] { 3 }).Varint(2, OnnxProto.Float).String(8, "B")
                .PackedFloats(4, new[] { 0.5f, -0.25f, 8f }))                                       // float_data, packed
            .Message(5, t => t.Varint(1, 2).Varint(2, OnnxProto.Int64).String(8, "idx")
                .Varint(7, -3).Varint(7, long.MaxValue))                                           // int64_data, unpacked
            .Message(1, OnnxProto.Node("MatMul", new[] { "x", "W" }, new[] { "t" }, "mm"))
            .Message(1, OnnxProto.Node("Gemm", new[] { "t", "W", "B" }, new[] { "y" }, "gemm", a => a.String(7, "ai.onnx")
                .Message(5, at => at.String(1, "transB").Varint(20, 2).Varint(3, 1))
                .Message(5, at => at.String(1, "alpha").Varint(20, 1).Float(2, 0.75f))
                .Message(5, at => at.String(1, "perm").Varint(20, 7).PackedVarints(8, new long[] { 0, 2, -1 }))
                .Message(5, at => at.String(1, "scales").Varint(20, 6).Float(7, 1.5f).Float(7, 2.5f))
                .Message(5, at => at.String(1, "mode").Varint(20, 3).String(4, "linear"))
                .Message(5, at => at.String(1, "value").Varint(20, 4)
                    .Message(5, OnnxProto.FloatTensor("", Array.Empty<long>(), 1e-12f))))));

        var model = OnnxModelReader.Read(bytes);

        Assert.Equal(7, model.IrVersion);
        Assert.Equal("test", model.ProducerName);
        Assert.Equal(new OnnxOperatorSet("", 13), Assert.Single(model.OpsetImports));
        var graph = model.Graph;
        Assert.Equal("tiny", graph.Name);
        Assert.Equal(new[] { "x" }, graph.Inputs);
        Assert.Equal(new[] { "y" }, graph.Outputs);
        Assert.Equal(new[] { "W", "B", "idx" }, graph.Initializers.Select(t => t.Name));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, graph.Initializer("W").ToFloatArray());
        Assert.Equal(new long[] { 2, 3 }, graph.Initializer("W").Shape);
        Assert.Equal(new[] { 0.5f, -0.25f, 8f }, graph.Initializer("B").ToFloatArray());
        Assert.True(graph.Initializer("B").RawData.IsEmpty);
        Assert.Equal(new[] { -3L, long.MaxValue }, graph.Initializer("idx").ToInt64Array());

        Assert.Equal(2, graph.Nodes.Count);
        var gemm = graph.Nodes[1];
        Assert.Equal(("Gemm", "gemm", "ai.onnx"), (gemm.OpType, gemm.Name, gemm.Domain));
        Assert.Equal(new[] { "t", "W", "B" }, gemm.Inputs);
        Assert.Equal(new[] { "y" }, gemm.Outputs);
        Assert.Equal(1, gemm.Attribute("transB")!.I);
        Assert.Equal(OnnxAttributeType.Int, gemm.Attribute("transB")!.Type);
        Assert.Equal(0.75f, gemm.Attribute("alpha")!.F);
        Assert.Equal(new long[] { 0, 2, -1 }, gemm.Attribute("perm")!.Ints);
        Assert.Equal(new[] { 1.5f, 2.5f }, gemm.Attribute("scales")!.Floats);
        Assert.Equal("linear"u8.ToArray(), gemm.Attribute("mode")!.S.ToArray());
        Assert.Equal(new[] { 1e-12f }, gemm.Attribute("value")!.T!.ToFloatArray());
        Assert.Null(gemm.Attribute("missing"));

        Assert.Same(graph.Nodes[0], graph.ProducerOf("t"));
        Assert.Null(graph.ProducerOf("x"));
        Assert.Equal(new[] { graph.Nodes[0], gemm }, graph.ConsumersOf("W"));
        Assert.Empty(graph.ConsumersOf("y"));
    }

    [Fact]
    public void ReadsFromSeekableAndNonSeekableStreamsAndFiles()
    {
        byte[] bytes = OnnxProto.Model(g => g.Message(5, OnnxProto.FloatTensor("w", new long[] { 2 }, 1f, 2f)));
        using var seekable = new MemoryStream(bytes);
        using var forwardOnly = new ForwardOnlyStream(bytes);
        string path = _folder.File("w.onnx");
        File.WriteAllBytes(path, bytes);

        Assert.Equal(new[] { 1f, 2f }, OnnxModelReader.Read(seekable).Graph.Initializer("w").ToFloatArray());
        Assert.Equal(new[] { 1f, 2f }, OnnxModelReader.Read(forwardOnly).Graph.Initializer("w").ToFloatArray());
        Assert.Equal(new[] { 1f, 2f }, OnnxModelReader.ReadFile(path).Graph.Initializer("w").ToFloatArray());
    }

    // ---- values: each storage against ONNX Runtime, which reads the same bytes with its own parser ----

    /// <summary>float32, float16 and bfloat16 in raw_data and in their typed fields, and int64 both ways: our values
    /// equal ONNX Runtime's outputs of Identity (float32, int64) and Cast to float32 (float16, bfloat16).</summary>
    [Fact]
    public void EveryStorageReadsWhatOnnxRuntimeReads()
    {
        float[] floats = { 1.5f, -2.25f, 3e-8f, 65504f, -0f, 1e30f };
        ushort[] halves = { 0x3C00, 0xC000, 0x0001, 0x7BFF, 0x8000, 0x3555 };   // 1, -2, smallest subnormal, max, -0, 1/3
        ushort[] bfloats = { 0x3F80, 0xC040, 0x0001, 0x7F7F, 0x8000, 0x3EAB };  // 1, -3, subnormal, max, -0, ~1/3
        long[] longs = { -3, long.MaxValue, long.MinValue, 0, 42, 1L << 40 };
        var tensors = new (string Name, int Type, Action<ProtoWriter> Data)[]
        {
            ("f32_raw", OnnxProto.Float, t => t.Bytes(9, ProtoWriter.FloatBytes(floats))),
            ("f32_typed", OnnxProto.Float, t => t.PackedFloats(4, floats)),
            ("f16_raw", Float16, t => t.Bytes(9, LittleEndian(halves))),
            ("f16_typed", Float16, t => t.PackedVarints(5, halves.Select(h => (long)h))),
            ("bf16_raw", BFloat16, t => t.Bytes(9, LittleEndian(bfloats))),
            ("bf16_typed", BFloat16, t => t.PackedVarints(5, bfloats.Select(h => (long)h))),
            ("i64_raw", OnnxProto.Int64, t => t.Bytes(9, longs.SelectMany(BitConverter.GetBytes).ToArray())),
            ("i64_typed", OnnxProto.Int64, t => t.PackedVarints(7, longs)),
        };
        byte[] bytes = OnnxProto.Model(g =>
        {
            foreach (var (name, type, data) in tensors)
            {
                g.Message(5, t => { t.PackedVarints(1, new long[] { 2, 3 }).Varint(2, type).String(8, name); data(t); });
                bool widen = type is Float16 or BFloat16;
                g.Message(1, OnnxProto.Node(widen ? "Cast" : "Identity", new[] { name }, new[] { name + "_out" },
                    attributes: widen ? a => a.Message(5, at => at.String(1, "to").Varint(20, 2).Varint(3, OnnxProto.Float)) : null));
                g.Message(12, v => v.String(1, name + "_out").Message(2, tp => tp.Message(1, tt => tt
                    .Varint(1, type == OnnxProto.Int64 ? OnnxProto.Int64 : OnnxProto.Float))));
            }
        });

        var graph = OnnxModelReader.Read(bytes).Graph;
        var runtime = RunOnnxRuntime(bytes, tensors.Select(t => t.Name + "_out"));

        foreach (var (name, type, _) in tensors)
        {
            var tensor = graph.Initializer(name);
            Assert.Equal(new long[] { 2, 3 }, tensor.Shape);
            Assert.Equal(type, (int)tensor.DataType);
            if (type == OnnxProto.Int64)
                Assert.Equal((long[])runtime[name + "_out"], tensor.ToInt64Array());
            else
                Assert.Equal(BitsOf((float[])runtime[name + "_out"]), BitsOf(tensor.ToFloatArray()));   // -0 and subnormals too
        }
        Assert.Equal(floats, graph.Initializer("f32_typed").ToFloatArray());
        Assert.Equal(new[] { 1f, -2f, MathF.Pow(2, -24), 65504f, -0f }, graph.Initializer("f16_raw").ToFloatArray()[..5]);
        Assert.Equal(longs, graph.Initializer("i64_raw").ToInt64Array());
    }

    /// <summary>A model whose tensors live in a file next to it (one at an offset, one as the rest of the file), read
    /// with <see cref="OnnxModelReader.ReadFile"/>, gives ONNX Runtime's values; read from bytes, it says where the
    /// data is and how to load it.</summary>
    [Fact]
    public void ExternalDataIsReadFromTheFileNextToTheModel()
    {
        float[] first = { 1, 2, 3, 4 }, second = { -5, 6.5f };
        byte[] weights = new byte[8].Concat(ProtoWriter.FloatBytes(first)).Concat(ProtoWriter.FloatBytes(second)).ToArray();
        File.WriteAllBytes(_folder.File("model.onnx.data"), weights);
        byte[] bytes = OnnxProto.Model(g => g
            .Message(5, External("a", new long[] { 2, 2 }, ("location", "model.onnx.data"), ("offset", "8"), ("length", "16")))
            .Message(5, External("b", new long[] { 2 }, ("location", "model.onnx.data"), ("offset", "24")))
            .Message(1, OnnxProto.Node("Identity", new[] { "a" }, new[] { "a_out" }))
            .Message(1, OnnxProto.Node("Identity", new[] { "b" }, new[] { "b_out" }))
            .Message(12, FloatOutput("a_out")).Message(12, FloatOutput("b_out")));
        string path = _folder.File("model.onnx");
        File.WriteAllBytes(path, bytes);

        var graph = OnnxModelReader.ReadFile(path).Graph;
        var runtime = RunOnnxRuntime(path, new[] { "a_out", "b_out" });

        Assert.False(graph.Initializer("a").IsExternal);
        Assert.Equal((float[])runtime["a_out"], graph.Initializer("a").ToFloatArray());
        Assert.Equal((float[])runtime["b_out"], graph.Initializer("b").ToFloatArray());
        Assert.Equal(first, graph.Initializer("a").ToFloatArray());
        Assert.Equal(second, graph.Initializer("b").ToFloatArray());

        var unread = OnnxModelReader.Read(bytes).Graph.Initializer("a");
        Assert.True(unread.IsExternal);
        Assert.Equal("model.onnx.data", unread.ExternalLocation);
        var error = Assert.Throws<NotSupportedException>(() => unread.ToFloatArray());
        Assert.Contains("'model.onnx.data'", error.Message);
        Assert.Contains("OnnxModelReader.ReadFile", error.Message);
    }

    [Fact]
    public void ExternalDataErrorsNameTheTensorAndTheFile()
    {
        File.WriteAllBytes(_folder.File("short.data"), new byte[8]);
        string Write(string name, params (string, string)[] entries)
        {
            string path = _folder.File(name + ".onnx");
            File.WriteAllBytes(path, OnnxProto.Model(g => g.Message(5, External("w", new long[] { 4 }, entries))));
            return path;
        }

        var missing = Assert.Throws<FileNotFoundException>(() => OnnxModelReader.ReadFile(Write("missing", ("location", "absent.data"))));
        Assert.Contains("'absent.data'", missing.Message);
        var outside = Assert.Throws<InvalidDataException>(() => OnnxModelReader.ReadFile(Write("outside", ("location", "../escape.data"))));
        Assert.Contains("not a file inside the model's folder", outside.Message);
        var past = Assert.Throws<InvalidDataException>(() => OnnxModelReader.ReadFile(Write("past", ("location", "short.data"), ("offset", "4"), ("length", "16"))));
        Assert.Contains("bytes [4, 20) of 'short.data', which holds 8", past.Message);
        var nowhere = Assert.Throws<InvalidDataException>(() => OnnxModelReader.ReadFile(Write("nowhere", ("offset", "0"))));
        Assert.Contains("names no location", nowhere.Message);
        var number = Assert.Throws<InvalidDataException>(() => OnnxModelReader.ReadFile(Write("number", ("location", "short.data"), ("offset", "-1"))));
        Assert.Contains("offset '-1'", number.Message);
        var shape = OnnxModelReader.ReadFile(Write("shape", ("location", "short.data"))).Graph.Initializer("w");
        Assert.Contains("needs 16 bytes of raw_data but has 8", Assert.Throws<InvalidDataException>(() => shape.ToFloatArray()).Message);
    }

    // ---- files that are not ONNX models: one line naming the file and the problem ----

    [Fact]
    public void TruncatedModelIsNamedAsSuch()
    {
        byte[] model = MiniLmPackage.ModelOnnx();
        string path = _folder.File("cut.onnx");
        File.WriteAllBytes(path, model[..(model.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.ReadFile(path));

        Assert.Equal($"The ONNX model '{path}' is not a readable ONNX model: it ends in the middle of a field (is the file truncated?).", error.Message);
    }

    [Theory]
    [InlineData("png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52 })]
    [InlineData("text", new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', (byte)'\n' })]
    [InlineData("safetensors", new byte[] { 0x10, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'1', (byte)'}', (byte)' ' })]
    [InlineData("empty", new byte[0])]
    [InlineData("no graph", new byte[] { 0x08, 0x07 })]                 // ir_version 7 only
    [InlineData("no ir_version", new byte[] { 0x3A, 0x00 })]           // an empty graph only
    public void NonOnnxFilesGiveOneLineErrors(string kind, byte[] bytes)
    {
        string path = _folder.File(kind + ".onnx");
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.ReadFile(path));

        Assert.StartsWith($"The ONNX model '{path}' is not ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = _folder.File("absent.onnx");
        var error = Assert.Throws<FileNotFoundException>(() => OnnxModelReader.ReadFile(path));
        Assert.Equal($"The ONNX model '{path}' does not exist.", error.Message);
    }

    [Fact]
    public void EveryTruncationOfASmallModelReadsOrFailsCleanly()
    {
        byte[] bytes = OnnxProto.Model(g => g
            .Message(5, OnnxProto.FloatTensor("W", new long[] { 2 }, 1, 2))
            .Message(1, OnnxProto.Node("Add", new[] { "W", "W" }, new[] { "y" }, attributes: a => a
                .Message(5, at => at.String(1, "alpha").Varint(20, 1).Float(2, 0.5f)))));
        int failures = 0;
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            try
            {
                OnnxModelReader.Read(bytes[..cut]);   // a cut at a field boundary may still parse
            }
            catch (InvalidDataException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                failures++;
            }
        }
        Assert.True(failures > bytes.Length / 2, $"only {failures} of {bytes.Length} cuts failed");
        Assert.NotNull(OnnxModelReader.Read(bytes).Graph.Initializer("W"));
    }

    // ---- well-formed protobuf, malformed ONNX ----

    [Fact]
    public void NegativeDimensionAndUnknownDataTypeNameTheTensor()
    {
        var negative = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(
            OnnxProto.Model(g => g.Message(5, t => t.Varint(1, -1).Varint(2, 1).String(8, "neg")))));
        Assert.Contains("TensorProto.dims", negative.Message);
        Assert.Contains("'neg'", negative.Message);

        var type = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(
            OnnxProto.Model(g => g.Message(5, t => t.Varint(1, 1).Varint(2, 99).String(8, "odd")))));
        Assert.Contains("data_type 99", type.Message);
        Assert.Contains("'odd'", type.Message);
    }

    [Fact]
    public void DuplicateInitializerNamesAreRejected()
    {
        byte[] bytes = OnnxProto.Model(g => g
            .Message(5, OnnxProto.FloatTensor("w", new long[] { 1 }, 1f))
            .Message(5, OnnxProto.FloatTensor("w", new long[] { 1 }, 2f)));
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("'w'", error.Message);
    }

    [Fact]
    public void DataThatDoesNotFitTheShapeNamesTheTensor()
    {
        byte[] bytes = OnnxProto.Model(g => g
            .Message(5, OnnxProto.RawTensor("short", new long[] { 3 }, OnnxProto.Float, new byte[8]))
            .Message(5, t => t.Varint(1, 3).Varint(2, OnnxProto.Float).String(8, "few").Float(4, 1f))
            .Message(5, t => t.Varint(1, 2).Varint(2, Float16).String(8, "half").Varint(5, 0x3C00))
            .Message(5, OnnxProto.FloatTensor("f", new long[] { 1 }, 1f)));
        var graph = OnnxModelReader.Read(bytes).Graph;

        var raw = Assert.Throws<InvalidDataException>(() => graph.Initializer("short").ToFloatArray());
        Assert.Contains("'short'", raw.Message);
        Assert.Contains("needs 12 bytes of raw_data but has 8", raw.Message);
        var typed = Assert.Throws<InvalidDataException>(() => graph.Initializer("few").ToFloatArray());
        Assert.Contains("'few'", typed.Message);
        Assert.Contains("float_data has 1", typed.Message);
        var half = Assert.Throws<InvalidDataException>(() => graph.Initializer("half").ToFloatArray());
        Assert.Contains("int32_data has 1", half.Message);
        var kind = Assert.Throws<InvalidDataException>(() => graph.Initializer("f").ToInt64Array());
        Assert.Contains("'f'", kind.Message);
        Assert.Contains("not Int64", kind.Message);
        var missing = Assert.Throws<KeyNotFoundException>(() => graph.Initializer("absent"));
        Assert.Contains("'absent'", missing.Message);
    }

    private static Action<ProtoWriter> External(string name, long[] dims, params (string Key, string Value)[] entries) => t =>
    {
        t.PackedVarints(1, dims).Varint(2, OnnxProto.Float).String(8, name);
        foreach (var (key, value) in entries)
            t.Message(13, e => e.String(1, key).String(2, value));
        t.Varint(14, ExternalLocation);
    };

    private static Action<ProtoWriter> FloatOutput(string name) =>
        v => v.String(1, name).Message(2, tp => tp.Message(1, tt => tt.Varint(1, OnnxProto.Float)));

    private static Dictionary<string, Array> RunOnnxRuntime(byte[] model, IEnumerable<string> outputs)
    {
        using var session = new InferenceSession(model);
        return Outputs(session, outputs);
    }

    private static Dictionary<string, Array> RunOnnxRuntime(string path, IEnumerable<string> outputs)
    {
        using var session = new InferenceSession(path);
        return Outputs(session, outputs);
    }

    private static Dictionary<string, Array> Outputs(InferenceSession session, IEnumerable<string> outputs)
    {
        using var results = session.Run(Array.Empty<NamedOnnxValue>(), outputs.ToArray());
        return results.ToDictionary(r => r.Name, r => r.ElementType == TensorElementType.Int64
            ? (Array)r.AsTensor<long>().ToArray()
            : r.AsTensor<float>().ToArray());
    }

    private static byte[] LittleEndian(ushort[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private static int[] BitsOf(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    private sealed class ForwardOnlyStream : MemoryStream
    {
        public ForwardOnlyStream(byte[] bytes) : base(bytes) { }
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
