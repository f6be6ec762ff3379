using System;

namespace LrpGen.Generators.Ir;

/// <summary>The operations the generator knows, grouped by the rule their backward applies.</summary>
internal enum OpKind
{
    /// <summary>Computed in the forward, off the relevance path (masks, positions, rotary tables).</summary>
    Constant,
    Identity, Reshape, Transpose, Permute, Expand, RepeatInterleave, Narrow, Index, IndexSelect, Cat, Chunk, Element,
    Sum, Mean, Scale, Negate, AddSub, Mul, Div, Matmul, Softmax, Activation, CustomElementwise,
    Linear, LinearFunctional, Conv2d, Sequential, LayerNorm, Embedding, MaskedFill, ToDtype, Rsqrt, Sqrt, Pow, Detach, Child,
    Einsum, Selection, Where, Select, Triangle, Stack,
    /// <summary>softmax(f(q k^T * scale) + mask) v fused by <c>AttentionFusion</c>: computed a block of query rows at a time.</summary>
    Attention,
}

/// <summary>One SSA value. <see cref="CName"/> is the C# variable holding it in the generated forward.</summary>
internal sealed record ValueInfo(
    int Id,
    string CName,
    bool Owned,
    bool IsArray,
    bool OnPath,
    bool OnPathUnderRules,
    bool IsGate,
    bool IsTokenIds,
    int ParamIndex);

/// <summary>A non-tensor argument the backward needs. Stable ones are re-evaluated in the backward;
/// others are evaluated once in the forward and kept on the tape.</summary>
internal sealed record OpArg(string Name, string Expr, string Type, bool Stable);

/// <summary>One operation: its forward C# expression, tensor inputs, and what its rule needs (<see cref="Params"/>,
/// typed per kind; see <see cref="OpTable"/> for what each kind's backward does). Submodule calls carry a point (member name, and a C# index expression for module-list elements) for latent relevance.</summary>
internal sealed record Op(
    int Id,
    OpKind Kind,
    int Output,
    EquatableArray<int> Inputs,
    string Forward,
    EquatableArray<OpArg> Args,
    string Source,
    string Where,
    OpParams Params,
    bool CpForced,
    EquatableArray<int> InputParamIndices,
    string PointName = "",
    string PointIndex = "",
    EquatableArray<int> Reads = default);

internal abstract record Stmt;

internal sealed record OpStmt(Op Op) : Stmt;

/// <summary>A non-tensor statement (configuration locals, shapes) copied into the forward.</summary>
internal sealed record CodeStmt(string Text, EquatableArray<int> Uses) : Stmt;

internal sealed record ReturnStmt(int Value, string Source, string Where) : Stmt;

internal sealed record Region(EquatableArray<Stmt> Statements);

/// <summary>A tensor local assigned inside a loop or branch: one mutable C# variable across iterations.</summary>
internal sealed record CarriedVar(string CName, int OuterIn, int BodyEntry, int BodyExit, int ElseEntry, int ElseExit, int OuterOut);

internal enum ControlKind { Loop, If }

/// <summary>A loop over modules or a branch on configuration; the backward replays it in reverse.</summary>
internal sealed record ControlStmt(
    int Id,
    ControlKind Kind,
    string Header,
    string Source,
    string Where,
    Region Body,
    Region? Else,
    EquatableArray<CarriedVar> Carried,
    EquatableArray<int> ConditionUses) : Stmt;
