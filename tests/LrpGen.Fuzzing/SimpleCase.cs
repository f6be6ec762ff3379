using System;
using System.Linq;
using LrpGen.Tests.Reference;
using TorchSharp;
using static TorchSharp.torch;

namespace LrpGen.Fuzzing;

/// <summary>A case for hand-written regression programs: relevance inputs drawn from randn with the given
/// shapes, the module in float64 and evaluation mode.</summary>
public abstract class SimpleCase<TModule> : IFuzzCase where TModule : nn.Module
{
    private readonly TModule _module;
    private readonly Tensor[] _inputs;
    private readonly Func<TModule, Tensor[], LrpOptions, LrpPass> _generated;
    private readonly Func<TModule, Tensor[], Tensor> _plain;
    private readonly Func<RuleInjection, TModule, Tensor[], Tensor> _reference;

    protected SimpleCase(int seed, Func<TModule> create, long[][] shapes, Func<TModule, Tensor[], LrpOptions, LrpPass> generated,
        Func<TModule, Tensor[], Tensor> plain, Func<RuleInjection, TModule, Tensor[], Tensor> reference)
    {
        torch.manual_seed(seed);
        _module = create();
        _module.to(ScalarType.Float64);
        _module.eval();
        _inputs = shapes.Select(s => torch.randn(s, ScalarType.Float64)).ToArray();
        _generated = generated;
        _plain = plain;
        _reference = reference;
    }

    public Tensor[] RelevanceInputs => _inputs;

    public LrpPass Generated(LrpOptions options) => _generated(_module, _inputs, options);

    public Tensor Plain() => _plain(_module, _inputs);

    public Tensor Reference(RuleInjection rules, Tensor[] leaves) => _reference(rules, _module, leaves);

    public void Dispose()
    {
        _module.Dispose();
        foreach (var t in _inputs) t.Dispose();
    }
}
