using LrpGen;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LrpGen.Models.Decoders;

/// <summary>Qwen3-MoE's sparse block: a softmax router picks the top-k experts per token (renormalised when
/// norm_topk_prob), each a SwiGLU. Rules as LXT: the router gets the plain gradient, which experts were picked is
/// a constant, and each routing weight x expert output gets the uniform rule. Computed densely (every expert on
/// every token, unpicked ones weighted 0): the same outputs and relevance as the sparse dispatch.</summary>
[LrpModule]
public partial class SparseMoeBlock : nn.Module<Tensor, Tensor>
{
    public readonly Linear gate;
    public readonly ModuleList<GatedMlp> experts;
    private readonly long topK;
    private readonly bool normTopk;

    public SparseMoeBlock(DecoderConfig c, Device? device = null) : base(nameof(SparseMoeBlock))
    {
        gate = nn.Linear(c.HiddenSize, c.Experts, hasBias: false, device: device);
        experts = new ModuleList<GatedMlp>();
        for (int e = 0; e < c.Experts; e++) experts.Add(new GatedMlp(c.HiddenSize, c.MoeIntermediateSize, bias: false, device: device));
        topK = c.ExpertsPerToken;
        normTopk = c.NormTopkProb;
        RegisterComponents();
    }

    /// <summary>Routing weights [tokens, experts]: softmax in float32, zero outside the top k, renormalised.</summary>
    [PlainGradient]
    private Tensor Route(Tensor tokens)
    {
        var probs = gate.call(tokens).softmax(-1, ScalarType.Float32);
        // The choice of experts is piecewise constant: no relevance flows through the indices (detach says so).
        var picked = probs.detach().argsort(-1, descending: true).narrow(-1, 0, topK);
        var selected = torch.zeros_like(probs).scatter(-1, picked, torch.ones_like(picked, dtype: probs.dtype));
        var weights = probs * selected;
        weights = normTopk ? weights / weights.sum(-1, keepdim: true) : weights;
        return weights.to(tokens.dtype);
    }

    public override Tensor forward(Tensor x)
    {
        long B = x.shape[0], T = x.shape[1], H = x.shape[2];
        var tokens = x.reshape(B * T, H);
        var routing = Route(tokens);
        var output = torch.zeros_like(tokens);
        for (int e = 0; e < experts.Count; e++)
            output = output + routing.narrow(-1, e, 1) * experts[e].call(tokens);
        return output.reshape(B, T, H);
    }
}
