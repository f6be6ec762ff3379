using System;
using System.IO;
using System.Linq;
using LrpGen.Models.Onnx;
using Xunit;

namespace LrpGen.Models.Tests.MiniLm;

/// <summary>The protobuf reader on hand-built ModelProto bytes: every field the reader knows, unknown fields
/// skipped, both encodings of repeated scalars, and a clear error naming the field for malformed input.</summary>
public class OnnxModelReaderTests
{
    /// <summary>ModelProto { graph { initializer { dims: 2, data_type: FLOAT, name: "a", raw_data: 1.5f, -2f } } },
    /// encoded by hand from onnx.proto's field numbers, independent of <see cref="ProtoWriter"/>.</summary>
    [Fact]
    public void ReadsHandEncodedBytes()
    {
        byte[] bytes =
        {
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
    }

    [Fact]
    public void ReadsModelGraphNodesInitializersAndAttributes()
    {
        byte[] bytes = OnnxProto.Model(g => g
            .String(2, "tiny")
            .Message(11, v => v.String(1, "x").Message(2, t => t.Varint(1, 1)))   // ValueInfoProto with a type
            .Message(12, v => v.String(1, "y"))
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
        Assert.Equal(new[] { 1e-12f }, gemm.Attribute("value")!.T!.ToFloatArray());
        Assert.Null(gemm.Attribute("missing"));

        Assert.Same(graph.Nodes[0], graph.ProducerOf("t"));
        Assert.Null(graph.ProducerOf("x"));
        Assert.Equal(new[] { graph.Nodes[0], gemm }, graph.ConsumersOf("W"));
        Assert.Empty(graph.ConsumersOf("y"));
    }

    [Fact]
    public void SkipsUnknownFieldsOfEveryWireType()
    {
        Action<ProtoWriter> junk = w => w.Varint(900, 123456789).Fixed64(901, ulong.MaxValue).Fixed32(902, 7)
            .String(903, "ignored").Message(904, m => m.Varint(1, 1));
        byte[] bytes = OnnxProto.Model(g =>
        {
            junk(g);
            g.Message(5, t => { junk(t); OnnxProto.FloatTensor("w", new long[] { 1 }, 42f)(t); junk(t); });
            g.Message(1, n => { junk(n); OnnxProto.Node("Relu", new[] { "w" }, new[] { "r" })(n); });
            g.Message(13, v => v.String(1, "value_info is skipped"));
            junk(g);
        });

        var graph = OnnxModelReader.Read(bytes).Graph;

        Assert.Equal(new[] { 42f }, graph.Initializer("w").ToFloatArray());
        Assert.Equal("Relu", Assert.Single(graph.Nodes).OpType);
    }

    [Fact]
    public void ReadsUnpackedFloatsAndPackedDims()
    {
        byte[] bytes = OnnxProto.Model(g => g.Message(5, t => t
            .Varint(1, 2).Varint(1, 1)                  // dims unpacked
            .Varint(2, OnnxProto.Float).String(8, "f")
            .Float(4, 3f).Float(4, -4f)));               // float_data unpacked

        var f = OnnxModelReader.Read(bytes).Graph.Initializer("f");

        Assert.Equal(new long[] { 2, 1 }, f.Shape);
        Assert.Equal(2, f.ElementCount);
        Assert.Equal(new[] { 3f, -4f }, f.ToFloatArray());
    }

    [Fact]
    public void ReadsFromSeekableAndNonSeekableStreams()
    {
        byte[] bytes = OnnxProto.Model(g => g.Message(5, OnnxProto.FloatTensor("w", new long[] { 2 }, 1f, 2f)));
        using var seekable = new MemoryStream(bytes);
        using var forwardOnly = new ForwardOnlyStream(bytes);

        Assert.Equal(new[] { 1f, 2f }, OnnxModelReader.Read(seekable).Graph.Initializer("w").ToFloatArray());
        Assert.Equal(new[] { 1f, 2f }, OnnxModelReader.Read(forwardOnly).Graph.Initializer("w").ToFloatArray());
    }

    // ---- malformed input: an InvalidDataException naming the message and field ----

    [Fact]
    public void TruncatedVarintNamesTheField()
    {
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x08, 0x80 }));
        Assert.Contains("ModelProto.ir_version", error.Message);
        Assert.Contains("truncated varint", error.Message);
    }

    [Fact]
    public void LengthPastTheEndNamesTheField()
    {
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x3A, 0x7F, 0x00, 0x01 }));
        Assert.Contains("ModelProto.graph", error.Message);
        Assert.Contains("length 127 exceeds the 2 bytes left", error.Message);
    }

    [Fact]
    public void NestedLengthPastTheEndOfItsMessageNamesTheInnerField()
    {
        // raw_data claims 16 bytes inside a TensorProto that has only 4 left (the outer buffer has more).
        byte[] tensor = new ProtoWriter().String(8, "w").Raw(0x4A, 0x10, 1, 2, 3, 4).ToArray();
        byte[] bytes = OnnxProto.Model(g => g.Bytes(5, tensor).Raw(new byte[32]));

        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("TensorProto.raw_data", error.Message);
        Assert.Contains("exceeds", error.Message);
    }

    [Fact]
    public void WrongWireTypeNamesTheField()
    {
        byte[] bytes = OnnxProto.Model(g => g.Message(5, t => t.Varint(8, 5)));   // name as a varint
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("TensorProto.name", error.Message);
        Assert.Contains("expected wire type 2", error.Message);
    }

    [Fact]
    public void GroupsAndInvalidWireTypesAreRejected()
    {
        var group = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x0B }));   // field 1, start group
        Assert.Contains("groups", group.Message);
        var invalid = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x0E }));  // wire type 6
        Assert.Contains("invalid wire type 6", invalid.Message);
        var zero = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new byte[] { 0x00, 0x00 })); // field 0
        Assert.Contains("invalid field number 0", zero.Message);
    }

    [Fact]
    public void OverlongVarintIsRejected()
    {
        var bytes = new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F };
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("ModelProto.ir_version", error.Message);
        Assert.Contains("64 bits", error.Message);
    }

    [Fact]
    public void TruncatedFixed32NamesTheAttributeField()
    {
        byte[] attribute = new ProtoWriter().String(1, "alpha").Raw(0x15, 0x00, 0x00).ToArray();   // f: 2 of 4 bytes
        byte[] bytes = OnnxProto.Model(g => g.Message(1, n => n.String(4, "Gemm").Bytes(5, attribute)));
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("AttributeProto.f", error.Message);
        Assert.Contains("needs 4 bytes", error.Message);
    }

    [Fact]
    public void InvalidUtf8NamesTheField()
    {
        byte[] bytes = OnnxProto.Model(g => g.Message(1, n => n.Bytes(4, new byte[] { 0xC3, 0x28 })));
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("NodeProto.op_type", error.Message);
        Assert.Contains("UTF-8", error.Message);
    }

    [Fact]
    public void PackedFloatsOfTheWrongLengthNameTheField()
    {
        byte[] bytes = OnnxProto.Model(g => g.Message(5, t => t.String(8, "w").Bytes(4, new byte[6])));
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(bytes));
        Assert.Contains("TensorProto.float_data", error.Message);
        Assert.Contains("not a multiple of 4", error.Message);
    }

    [Fact]
    public void MissingGraphIsNotAModel()
    {
        var error = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(new ProtoWriter().Varint(1, 7).ToArray()));
        Assert.Contains("ModelProto.graph", error.Message);
        var empty = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(Array.Empty<byte>()));
        Assert.Contains("ModelProto.graph", empty.Message);
    }

    [Fact]
    public void NegativeDimensionAndUnknownDataTypeNameTheTensor()
    {
        var negative = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(
            OnnxProto.Model(g => g.Message(5, t => t.Varint(1, -1).Varint(2, 1).String(8, "neg")))));
        Assert.Contains("TensorProto.dims", negative.Message);
        Assert.Contains("'neg'", negative.Message);

        var type = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(
            OnnxProto.Model(g => g.Message(5, t => t.Varint(1, 1).Varint(2, 99).String(8, "odd")))));
        Assert.Contains("TensorProto.data_type", type.Message);
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
            .Message(5, OnnxProto.FloatTensor("f", new long[] { 1 }, 1f)));
        var graph = OnnxModelReader.Read(bytes).Graph;

        var raw = Assert.Throws<InvalidDataException>(() => graph.Initializer("short").ToFloatArray());
        Assert.Contains("'short'", raw.Message);
        Assert.Contains("needs 12 bytes of raw_data but has 8", raw.Message);
        var typed = Assert.Throws<InvalidDataException>(() => graph.Initializer("few").ToFloatArray());
        Assert.Contains("'few'", typed.Message);
        Assert.Contains("float_data has 1", typed.Message);
        var kind = Assert.Throws<InvalidDataException>(() => graph.Initializer("f").ToInt64Array());
        Assert.Contains("'f'", kind.Message);
        Assert.Contains("not Int64", kind.Message);
        Assert.Throws<System.Collections.Generic.KeyNotFoundException>(() => graph.Initializer("absent"));
    }

    [Fact]
    public void EveryTruncationOfAValidModelFailsCleanly()
    {
        byte[] bytes = OnnxProto.Model(g => g
            .Message(5, OnnxProto.FloatTensor("W", new long[] { 2 }, 1, 2))
            .Message(1, OnnxProto.Node("Add", new[] { "W", "W" }, new[] { "y" }, attributes: a => a
                .Message(5, at => at.String(1, "alpha").Varint(20, 1).Float(2, 0.5f)))));
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            try
            {
                OnnxModelReader.Read(bytes[..cut]);
            }
            catch (InvalidDataException)
            {
                // expected for most cuts; a cut at a field boundary may still parse
            }
        }
        Assert.NotNull(OnnxModelReader.Read(bytes).Graph.Initializer("W"));
    }

    private sealed class ForwardOnlyStream : MemoryStream
    {
        public ForwardOnlyStream(byte[] bytes) : base(bytes) { }
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
